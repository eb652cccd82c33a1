#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
# jsoncheck.py SCHEMA KIND FILE [ndjson]: FILE holds one JSON document
# (or, with "ndjson", one a line and nothing else) of $defs/KIND of the
# JSON Schema SCHEMA (aqstat.schema.json). A small validator of the
# keywords that schema uses, so that no package is needed; where the
# jsonschema module is installed it checks too. Prints what is wrong,
# exits 1 then.
import json
import sys

schema_path, kind, path = sys.argv[1:4]
ndjson = len(sys.argv) > 4 and sys.argv[4] == "ndjson"
root = json.load(open(schema_path))
TYPES = {"object": dict, "array": list, "string": str, "null": type(None), "boolean": bool}


def is_type(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, TYPES[t])


def errors(v, s, where):
    """What is wrong with v against the (sub)schema s, as strings."""
    if "$ref" in s:
        sub = root
        for part in s["$ref"].lstrip("#/").split("/"):
            sub = sub[part]
        yield from errors(v, sub, where)
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(is_type(v, t) for t in types):
            yield "%s: %r is not %s" % (where, v, "/".join(types))
            return
    if "const" in s and (v != s["const"] or type(v) is not type(s["const"])):
        yield "%s: %r is not %r" % (where, v, s["const"])
    if "enum" in s and v not in s["enum"]:
        yield "%s: %r is not one of %s" % (where, v, s["enum"])
    if is_type(v, "number"):
        if "minimum" in s and v < s["minimum"]:
            yield "%s: %r < %r" % (where, v, s["minimum"])
        if "maximum" in s and v > s["maximum"]:
            yield "%s: %r > %r" % (where, v, s["maximum"])
    if isinstance(v, dict):
        props = s.get("properties", {})
        for k in s.get("required", []):
            if k not in v:
                yield "%s: no member %s" % (where, k)
        for k, x in v.items():
            if k in props:
                yield from errors(x, props[k], where + "." + k)
            elif s.get("additionalProperties") is False:
                yield "%s: member %s is not in the schema" % (where, k)
    if isinstance(v, list) and "items" in s:
        for i, x in enumerate(v):
            yield from errors(x, s["items"], "%s[%d]" % (where, i))
    for x in s.get("allOf", []):
        yield from errors(v, x, where)
    if "oneOf" in s:
        ok = [x for x in s["oneOf"] if not list(errors(v, x, where))]
        if len(ok) != 1:
            yield "%s: matches %d of oneOf, not 1" % (where, len(ok))


text = open(path, encoding="utf-8").read()
if ndjson:
    if not text.endswith("\n"):
        sys.exit("%s: does not end with a newline" % path)
    docs = [json.loads(line) for line in text[:-1].split("\n")]
else:
    docs = [json.loads(text)]
if not docs:
    sys.exit("%s: no document" % path)
bad = []
for i, d in enumerate(docs):
    bad += list(errors(d, {"$ref": "#/$defs/" + kind}, "doc %d" % (i + 1)))
    bad += list(errors(d, root, "doc %d (any kind)" % (i + 1)))
try:
    import jsonschema
except ImportError:
    jsonschema = None
if jsonschema and not bad:
    jsonschema.Draft202012Validator.check_schema(root)
    v = jsonschema.Draft202012Validator(dict(root, **{"$ref": "#/$defs/" + kind}))
    for i, d in enumerate(docs):
        bad += ["doc %d: jsonschema: %s" % (i + 1, e.message) for e in v.iter_errors(d)]
for b in bad[:20]:
    print(b)
sys.exit(1 if bad else 0)
