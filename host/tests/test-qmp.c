// SPDX-License-Identifier: GPL-2.0
/* test-qmp: the QMP splitter, parser and commands against hand-written input. */
#include "host/qmp_proto.h"
#include "tests/tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Feeds @in in reads of @step bytes; collects what the splitter reports. */
struct got {
	unsigned msgs, toolong, junk;
	char last[512];
};

static void feed(struct vs_qmp_split *s, const char *in, size_t n, size_t step, struct got *g)
{
	size_t off = 0;

	memset(g, 0, sizeof(*g));
	while (off < n) {
		char *dst;
		size_t room = vs_qmp_split_space(s, &dst);
		size_t k = n - off < step ? n - off : step;
		enum vs_qmp_next r;
		const char *m;
		size_t ml;

		if (k > room)
			k = room;
		memcpy(dst, in + off, k);
		vs_qmp_split_commit(s, k);
		off += k;
		while ((r = vs_qmp_split_next(s, &m, &ml)) != VS_QMP_NEED) {
			if (r == VS_QMP_MSG) {
				g->msgs++;
				snprintf(g->last, sizeof(g->last), "%.*s", (int)ml, m);
			} else if (r == VS_QMP_TOOLONG) {
				g->toolong++;
			} else {
				g->junk++;
			}
		}
	}
}

static const char greeting[] =
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
	"\"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}\r\n";
static const char event[] =
	"{\"timestamp\": {\"seconds\": 1764600000, \"microseconds\": 1}, "
	"\"event\": \"VSERPORT_CHANGE\", \"data\": {\"open\": true, \"id\": \"channel0\"}}\r\n";

int main(void)
{
	struct vs_qmp_split s;
	struct vs_qmp_msg m;
	struct got g;
	char buf[512];

	if (vs_qmp_split_init(&s))
		return 1;

	/* --- splitting --- */
	{
		char all[1024];
		size_t n = (size_t)snprintf(all, sizeof(all), "%s%s", greeting, event);
		bool same = true;

		for (size_t step = 1; step <= n; step++) {
			vs_qmp_split_reset(&s);
			feed(&s, all, n, step, &g);
			if (g.msgs != 2 || g.toolong || g.junk ||
			    strncmp(g.last, event, strlen(event) - 2))
				same = false;
		}
		tap_check(same, "two messages found whatever the read size (1..%zu)", n);
	}
	{
		static const char two[] = "{\"a\":1}{\"b\":\"}{\\\"\"}";

		vs_qmp_split_reset(&s);
		feed(&s, two, sizeof(two) - 1, 3, &g);
		tap_check(g.msgs == 2 && !strcmp(g.last, "{\"b\":\"}{\\\"\"}"),
			  "objects without a newline between them, braces and quotes in strings");
	}
	{
		static const char in[] = "garbage\n{\"return\": {}}\n";

		vs_qmp_split_reset(&s);
		feed(&s, in, sizeof(in) - 1, 4, &g);
		tap_check(g.junk == 1 && g.msgs == 1 && !strcmp(g.last, "{\"return\": {}}"),
			  "junk before an object is reported once and skipped");
	}
	{
		static const char in[] = "\r\n  \n";

		vs_qmp_split_reset(&s);
		feed(&s, in, sizeof(in) - 1, 1, &g);
		tap_check(!g.junk && !g.msgs, "whitespace between objects is not junk");
	}
	{
		size_t big = VS_QMP_MSG_MAX + 1000, n;
		char *in = malloc(big + 200);

		if (!in)
			return 1;
		n = (size_t)sprintf(in, "{\"return\": \"");
		memset(in + n, 'x', big);
		n += big;
		n += (size_t)sprintf(in + n, "}\"}\n%s", event);
		vs_qmp_split_reset(&s);
		feed(&s, in, n, 4096, &g);
		tap_check(g.toolong == 1 && g.msgs == 1 &&
			  !strncmp(g.last, event, strlen(event) - 2),
			  "an over-long message is reported and the next one still found");
		free(in);
	}

	/* --- parsing --- */
	tap_check(!vs_qmp_parse(greeting, sizeof(greeting) - 1, &m) && m.kind == VS_QMP_GREETING,
		  "greeting");
	tap_check(!vs_qmp_parse(event, sizeof(event) - 1, &m) && m.kind == VS_QMP_EVENT &&
		  !strcmp(m.event, "VSERPORT_CHANGE") && !strcmp(m.data_id, "channel0") &&
		  m.data_open == 1 && m.id == -1,
		  "VSERPORT_CHANGE: name, data.id, data.open");
	{
		static const char e[] = "{\"event\":\"VSERPORT_CHANGE\",\"data\":{\"id\":\"c\\u006fn0\","
					"\"open\":false}}";

		tap_check(!vs_qmp_parse(e, sizeof(e) - 1, &m) && !strcmp(m.data_id, "con0") &&
			  m.data_open == 0, "escapes decoded, open false");
	}
	{
		static const char e[] = "{\"event\":\"VSERPORT_CHANGE\",\"data\":{\"id\":\"a\\u0000b\","
					"\"open\":\"yes\"}}";

		tap_check(!vs_qmp_parse(e, sizeof(e) - 1, &m) && m.kind == VS_QMP_EVENT &&
			  !m.data_id[0] && m.data_open == -1,
			  "an id with a NUL and a non-boolean open count as absent");
	}
	{
		static const char r[] = "{\"return\": \"ch0\", \"id\": 17}";

		tap_check(!vs_qmp_parse(r, sizeof(r) - 1, &m) && m.kind == VS_QMP_RETURN &&
			  m.id == 17 && vs_qmp_ret_string(&m, buf, sizeof(buf)) &&
			  !strcmp(buf, "ch0"), "return of a string, with its id");
	}
	{
		static const char r[] = "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": "
					"\"Device '/machine/peripheral/nope' not found\"}, \"id\": 3}";

		tap_check(!vs_qmp_parse(r, sizeof(r) - 1, &m) && m.kind == VS_QMP_ERROR &&
			  m.id == 3 && !strcmp(m.error, "Device '/machine/peripheral/nope' not found"),
			  "error: desc and id");
	}
	{
		static const char r[] = "{\"return\": [{\"frontend-open\": true, \"filename\": "
			"\"unix:/q.sock,server=on\", \"label\": \"compat_monitor0\"}, 7, "
			"{\"label\": \"odd\"}, {\"frontend-open\": false, \"filename\": "
			"\"disconnected:unix:/c.sock,server=on\", \"label\": \"ch0\"}], \"id\": 2}";
		struct vs_qmp_iter it = { 0 };
		char l1[64] = "", l2[64] = "";
		bool o1 = false, o2 = true, more;

		tap_check(!vs_qmp_parse(r, sizeof(r) - 1, &m) && m.id == 2 &&
			  vs_qmp_chardev_next(&m, &it, l1, sizeof(l1), &o1) &&
			  vs_qmp_chardev_next(&m, &it, l2, sizeof(l2), &o2) &&
			  !(more = vs_qmp_chardev_next(&m, &it, buf, sizeof(buf), &o1)) &&
			  !strcmp(l1, "compat_monitor0") && !strcmp(l2, "ch0") && !o2,
			  "query-chardev: labels and frontend-open, odd elements skipped");
	}
	{
		static const char *const bad[] = {
			"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}",
			"{\"a\":tru}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}", "{\"a\":1} x",
			"{\"a\":\"\\u12\"}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":[1 2]}",
		};
		bool all = true;

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (vs_qmp_parse(bad[i], strlen(bad[i]), &m) != -EINVAL) {
				tap_diag("accepted: %s", bad[i]);
				all = false;
			}
		tap_check(all, "malformed JSON is refused");
	}
	{
		char deep[200];
		size_t n = 0;

		for (int i = 0; i < VS_QMP_DEPTH_MAX + 1; i++)
			n += (size_t)sprintf(deep + n, "{\"a\":");
		n += (size_t)sprintf(deep + n, "1");
		for (int i = 0; i < VS_QMP_DEPTH_MAX + 1; i++)
			deep[n++] = '}';
		tap_check(vs_qmp_parse(deep, n, &m) == -EINVAL, "nesting deeper than %d is refused",
			  VS_QMP_DEPTH_MAX);
	}

	/* --- commands --- */
	tap_check(vs_qmp_cmd_capabilities(buf, sizeof(buf), 1) &&
		  !strcmp(buf, "{\"execute\":\"qmp_capabilities\",\"id\":1}\n"), "qmp_capabilities");
	tap_check(vs_qmp_cmd_dev_chardev(buf, sizeof(buf), 5, "channel0") &&
		  !vs_qmp_parse(buf, strlen(buf), &m) && m.id == 5 &&
		  strstr(buf, "\"/machine/peripheral/channel0\""), "qom-get of a device's chardev");
	tap_check(!vs_qmp_cmd_dev_chardev(buf, sizeof(buf), 5, "a\"b") &&
		  !vs_qmp_cmd_dev_chardev(buf, sizeof(buf), 5, "0ab") &&
		  !vs_qmp_cmd_query_chardev(buf, 10, 1),
		  "no command for an invalid id or a short buffer");
	vs_qmp_split_free(&s);
	return tap_done();
}
