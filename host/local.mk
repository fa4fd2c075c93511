# automake fragment: the host daemon and its CLI.
