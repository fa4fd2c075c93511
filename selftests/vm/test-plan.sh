#!/bin/sh
# test-plan.sh SOURCE.c... - what each guest test program must report,
# read from its source at build time, for vmhost (--plan) to check a run
# against:
#
#   prog NAME RESULTS DEADLINE   RESULTS TAP results; DEADLINE seconds for
#                                the whole program
#   test NAME FIXTURE.TEST TIMEOUT
#                                one kselftest_harness test and its own
#                                timeout (TEST_F_TIMEOUT, else the
#                                harness's default of 30 s)
#
# A program built on kselftest_harness.h reports one result per TEST,
# TEST_SIGNAL, TEST_F, TEST_F_SIGNAL and TEST_F_TIMEOUT at the start of a
# line; its deadline is the sum of its tests' timeouts plus 120 s.  Any
# other program says what it reports in a comment:
#   vt-plan: results=N deadline=S
# A fixture with variants (FIXTURE_VARIANT_ADD(F, V)) runs each of its
# tests once per variant, named F.V.TEST.
set -eu
status=0
for src; do
	name=$(basename "$src" .c)
	awk -v name="$name" -v src="$src" '
	function fail(msg) { printf "test-plan.sh: %s: %s\n", src, msg > "/dev/stderr"; bad = 1; exit 1 }
	/^FIXTURE_VARIANT_ADD\(/ {
		args = $0; sub(/^[A-Z_]+\(/, "", args); sub(/\).*/, "", args)
		gsub(/[ \t]/, "", args)
		split(args, a, ",")
		nv[a[1]]++; variant[a[1], nv[a[1]]] = a[2]
	}
	/TEST_HARNESS_MAIN/ { harness = 1 }
	/vt-plan:/ {
		if (match($0, /results=[0-9]+/)) declared = substr($0, RSTART + 8, RLENGTH - 8)
		if (match($0, /deadline=[0-9]+/)) ddl = substr($0, RSTART + 9, RLENGTH - 9)
	}
	/^(TEST|TEST_SIGNAL|TEST_F|TEST_F_SIGNAL|TEST_F_TIMEOUT)\(/ {
		macro = $0; sub(/\(.*/, "", macro)
		args = $0; sub(/^[A-Z_]+\(/, "", args); sub(/\).*/, "", args)
		gsub(/[ \t]/, "", args)
		n = split(args, a, ",")
		if (macro == "TEST" || macro == "TEST_SIGNAL") { fix = "global"; t = a[1]; to = 30 }
		else { fix = a[1]; t = a[2]; to = 30 }
		if (macro == "TEST_F_TIMEOUT") {
			to = a[3]
			if (to !~ /^[0-9]+$/) fail("timeout of " t " is not a number")
		}
		tfix[++nt] = fix; tname[nt] = t; tmo[nt] = to
	}
	END {
		if (bad) exit 1
		if (harness) {
			for (i = 1; i <= nt; i++) {
				f = tfix[i]
				if (!nv[f]) {
					out[++no] = f "." tname[i]; otmo[no] = tmo[i]
				}
				for (v = 1; v <= nv[f]; v++) {
					out[++no] = f "." variant[f, v] "." tname[i]; otmo[no] = tmo[i]
				}
			}
			for (i = 1; i <= no; i++) sum += otmo[i]
			printf "prog %s %d %d\n", name, no, sum + 120
			for (i = 1; i <= no; i++) printf "test %s %s %d\n", name, out[i], otmo[i]
		} else if (declared != "" && ddl != "") {
			printf "prog %s %d %d\n", name, declared, ddl
		} else {
			fail("no TEST_HARNESS_MAIN and no \"vt-plan: results=N deadline=S\" comment")
		}
	}' "$src" || status=1
done
exit $status
