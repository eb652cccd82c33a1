#!/usr/bin/env python3
"""Strict checker for the Prometheus text exposition format (0.0.4), as
read by node_exporter's textfile collector: used when promtool is absent.
Usage: promcheck.py FILE   (exit 0 ok, 1 with a message per problem)"""
import math, re, sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LNAME = r'[a-zA-Z_][a-zA-Z0-9_]*'
LVAL = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(%s)(?:\{((?:%s=%s)(?:,%s=%s)*)?,?\})? (\S+)$' % (NAME, LNAME, LVAL, LNAME, LVAL))
LABEL = re.compile(r'(%s)=(%s)' % (LNAME, LVAL))
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')

def unescape(v):
    return re.sub(r'\\(.)', lambda m: {'n': '\n'}.get(m.group(1), m.group(1)), v[1:-1])

def value(s):
    if s in ('NaN', '+Inf', '-Inf'):
        return float(s.replace('+', ''))
    if not re.match(r'^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$', s):
        raise ValueError(s)
    return float(s)

def main(path):
    errs = []
    data = open(path, 'rb').read()
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        return ['not UTF-8: %s' % e]
    if text and not text.endswith('\n'):
        errs.append('no newline at the end')
    types, helps, done, series = {}, set(), set(), set()
    current = None
    hist = {}    # (family, labels without le) -> {'buckets': [(le, v)], 'count': v, 'sum': v}
    for no, line in enumerate(text.split('\n')[:-1], 1):
        def err(m):
            errs.append('line %d: %s: %s' % (no, m, line[:100]))
        if line.startswith('#'):
            m = re.match(r'^# (HELP|TYPE) (%s) (.*)$' % NAME, line)
            if not m:
                if line.startswith('# HELP') or line.startswith('# TYPE'):
                    err('bad HELP/TYPE')
                continue
            kind, name, rest = m.groups()
            if name != current:
                if name in done:
                    err('family %s is not contiguous' % name)
                if current:
                    done.add(current)
                current = name
            if kind == 'TYPE':
                if rest not in TYPES:
                    err('bad type')
                if name in types:
                    err('second TYPE')
                types[name] = rest
            else:
                if name in helps:
                    err('second HELP')
                if re.search(r'\\[^\\n]', rest):
                    err('bad escape in HELP')
                helps.add(name)
            continue
        if not line.strip():
            err('empty line')
            continue
        m = SAMPLE.match(line)
        if not m:
            err('not a sample line')
            continue
        name, labels, val = m.groups()
        fam = name
        for suf in ('_bucket', '_sum', '_count'):
            if name.endswith(suf) and types.get(name[:-len(suf)]) == 'histogram':
                fam = name[:-len(suf)]
        if fam not in types:
            err('sample without a TYPE')
        if fam != current:
            err('sample outside its family block')
        lab = LABEL.findall(labels or '')
        names = [k for k, _ in lab]
        if len(set(names)) != len(names):
            err('duplicate label')
        key = (name, tuple(sorted((k, unescape(v)) for k, v in lab)))
        if key in series:
            err('duplicate series')
        series.add(key)
        try:
            v = value(val)
        except ValueError:
            err('bad value')
            continue
        t = types.get(fam)
        if t == 'counter' and (not name.endswith('_total') or v < 0):
            err('counter not named _total or negative')
        if t == 'histogram':
            if name == fam:
                err('histogram sample without _bucket/_sum/_count')
                continue
            base = tuple((k, x) for k, x in key[1] if k != 'le')
            h = hist.setdefault((fam, base), {'buckets': [], 'count': None, 'sum': None})
            if name.endswith('_bucket'):
                le = dict(key[1]).get('le')
                if le is None:
                    err('bucket without le')
                    continue
                h['buckets'].append((value(le), v))
            elif name.endswith('_count'):
                h['count'] = v
            else:
                h['sum'] = v
    for (fam, base), h in hist.items():
        where = '%s%s' % (fam, dict(base))
        b = h['buckets']
        if not b or b[-1][0] != math.inf:
            errs.append('%s: no +Inf bucket last' % where)
        if [x for x, _ in b] != sorted(x for x, _ in b):
            errs.append('%s: buckets not in le order' % where)
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            errs.append('%s: buckets not cumulative' % where)
        if h['count'] is None or h['sum'] is None:
            errs.append('%s: missing _sum or _count' % where)
        elif b and b[-1][1] != h['count']:
            errs.append('%s: +Inf bucket != _count' % where)
    return errs

if __name__ == '__main__':
    problems = main(sys.argv[1])
    for p in problems:
        print('promcheck: ' + p, file=sys.stderr)
    sys.exit(1 if problems else 0)
