# checklib.sh - sourced by the check scripts that print TAP-style lines.
#
#   ok DESCRIPTION COMMAND...   runs COMMAND; prints "ok - DESCRIPTION" or
#                               "not ok - DESCRIPTION" and counts the failure
#   notok DESCRIPTION           a failure found without running a command
#
# The caller ends with `[ $fails = 0 ]` so its exit status says it all.
fails=0

ok() {
	local d=$1
	shift
	if "$@"; then
		echo "ok - $d"
	else
		notok "$d"
	fi
}

notok() {
	echo "not ok - $1"
	fails=$((fails + 1))
}
