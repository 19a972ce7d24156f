"""Renders templates with Python's Jinja2 the way dbt does, as the oracle of
the Jinja conformance suite (conformance.test.ts).

dbt (dbt_common.clients.jinja.get_environment) renders with a
jinja2.sandbox.SandboxedEnvironment subclass, the `do` and `loopcontrols`
extensions, the default Undefined, and the text filters as_text/as_bool/
as_native/as_number (identity) and is_list. A few of dbt's context functions
(tojson, fromjson, zip, modules.re/datetime, log, print) are added as dbt
defines them.

Protocol: one JSON object per line on stdin, {"id", "template", "context"};
one JSON object per line on stdout, {"id", "ok": true, "out"} or
{"id", "ok": false, "error"}.
"""
import datetime
import json
import itertools
import re
import sys

import jinja2
import jinja2.sandbox


def _tojson(value, default=None, sort_keys=False):
    try:
        return json.dumps(value, sort_keys=sort_keys)
    except ValueError:
        return default


def _fromjson(string, default=None):
    try:
        return json.loads(string)
    except ValueError:
        return default


def _zip(*args, default=None):
    try:
        return zip(*args)
    except TypeError:
        return default


def _set(value, default=None):
    # dbt's set(): core/dbt/context/base.py
    try:
        return set(value)
    except TypeError:
        return default


def _log(msg, info=False):
    return ""


def _print(msg):
    return ""


def _is_list(value):
    return isinstance(value, list)


def make_env():
    env = jinja2.sandbox.SandboxedEnvironment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    ident = lambda x: x  # noqa: E731
    env.filters.update({"as_text": ident, "as_bool": ident, "as_native": ident, "as_number": ident, "is_list": _is_list})
    env.globals.update(
        {
            "tojson": _tojson,
            "fromjson": _fromjson,
            "zip": _zip,
            "set": _set,
            "log": _log,
            "print": _print,
            "modules": {"re": re, "datetime": datetime, "itertools": itertools},
        }
    )
    return env


def main():
    env = make_env()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            out = env.from_string(req["template"]).render(req.get("context") or {})
            res = {"id": req["id"], "ok": True, "out": out}
        except Exception as e:  # noqa: BLE001 - any failure is "fails" for the suite
            res = {"id": req["id"], "ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
