# automake fragment: udev rules.
dist_udevrules_DATA = udev/60-virtio-port.rules
