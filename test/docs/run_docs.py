#!/usr/bin/env python3
"""Run the SQL examples of README.md and docs/*.md and compare their output.

Each page runs in a database of its own, created for it, where
CREATE EXTENSION acctsec has run.  Its ```sql blocks run in one psql session,
top to bottom, so a page can build on what it created earlier (tables, roles,
psql variables set with \\gset).  The output a block prints is compared with
the ```text block that immediately follows it (only blank lines between); a
```sql block with no such ```text block must print nothing.  psql runs as
`psql -X -q` reading the page from standard input (as pg_regress runs its
files), with psql's default output settings, so what the page shows is what a
reader sees in psql (less the command tags that -q leaves out, and with
\\set SHOW_CONTEXT never, so that an error shows its message, detail and hint
but not the line of the PL/pgSQL function it came from); errors and notices
are shown where they happen.  The session runs with TimeZone UTC and
DateStyle ISO.  Lines are compared without trailing
blanks; trailing empty lines of a block do not count.

    run_docs.py [--write] PAGE.md...

--write replaces each page's ```text blocks with what the server printed
(adding one where a block printed something and had none): for writing a
page; read every line it writes.  Roles a page creates are dropped after it.
"""
import difflib
import os
import re
import subprocess
import sys

FENCE = re.compile(r'^```\s*([A-Za-z0-9_+-]*)\s*$')
MARK = '<<<acctsec-docs-block-%d>>>'


def parse(path):
    """Blocks of a page: list of dicts with lang, start, end (line indexes of
    the fences) and text; sql blocks get 'out' (index of their text block)."""
    lines = open(path, encoding='utf-8').read().split('\n')
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            lang = m.group(1)
            j = i + 1
            while j < len(lines) and lines[j].rstrip() != '```':
                j += 1
            if j == len(lines):
                sys.exit('%s:%d: code block never closed' % (path, i + 1))
            blocks.append({'lang': lang, 'start': i, 'end': j,
                           'text': '\n'.join(lines[i + 1:j])})
            i = j + 1
        else:
            i += 1
    for k, b in enumerate(blocks):
        if b['lang'] != 'sql':
            continue
        b['out'] = None
        if k + 1 < len(blocks) and blocks[k + 1]['lang'] == 'text':
            between = lines[b['end'] + 1:blocks[k + 1]['start']]
            if all(not l.strip() for l in between):
                b['out'] = k + 1
    return lines, blocks


def slug(heading):
    """The anchor GitHub gives a heading."""
    h = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return h.replace(' ', '-')


def anchors(path):
    lines, blocks = parse(path)
    inside = set()
    for b in blocks:
        inside.update(range(b['start'], b['end'] + 1))
    return {slug(l.lstrip('#')) for i, l in enumerate(lines)
            if i not in inside and re.match(r'^#{1,6} ', l)}


def check_links(path):
    """Every relative link of a page names a file that exists, and a
    heading of it when it has an #anchor."""
    bad = []
    lines, blocks = parse(path)
    inside = set()
    for b in blocks:
        inside.update(range(b['start'], b['end'] + 1))
    for i, l in enumerate(lines):
        if i in inside:
            continue
        for target in re.findall(r'\]\(([^)\s]+)\)', l):
            if re.match(r'^[a-z]+:', target):
                continue
            file_, _, anchor = target.partition('#')
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_)) if file_ else path
            if not os.path.exists(dest):
                bad.append('%s:%d: links to %s, which does not exist' % (path, i + 1, target))
            elif anchor and dest.endswith('.md') and anchor not in anchors(dest):
                bad.append('%s:%d: links to %s, which has no heading #%s' % (path, i + 1, file_ or path, anchor))
    return bad


def norm(text):
    out = [l.rstrip() for l in text.split('\n')]
    while out and not out[-1]:
        out.pop()
    while out and not out[0]:
        out.pop(0)
    return out


def psql(args, stdin, env):
    bin_ = os.path.join(os.environ['ACCTSEC_BIN'], 'psql')
    p = subprocess.run([bin_, '-X', '-q'] + args, input=stdin, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode, p.stdout


def admin(sql, env, db='postgres'):
    rc, out = psql(['-At', '-v', 'ON_ERROR_STOP=1', '-d', db], sql, env)
    if rc != 0:
        sys.exit('run_docs: %s failed: %s' % (sql.strip(), out))
    return out


def run_page(path, env, write):
    lines, blocks = parse(path)
    sqlb = [b for b in blocks if b['lang'] == 'sql']
    name = re.sub(r'[^a-z0-9]+', '_', os.path.splitext(os.path.basename(path))[0].lower())
    db = 'acctsec_docs_' + name
    roles_before = set(admin('SELECT rolname FROM pg_roles', env).split())
    admin('DROP DATABASE IF EXISTS %s' % db, env)
    admin('CREATE DATABASE %s' % db, env)
    admin('CREATE EXTENSION acctsec', env, db)
    script = ['\\set SHOW_CONTEXT never']
    for n, b in enumerate(sqlb):
        script.append('\\echo %s' % (MARK % n))
        script.append(b['text'])
    script.append('\\echo %s' % (MARK % len(sqlb)))
    rc, out = psql(['-d', db], '\n'.join(script) + '\n', env)
    admin('DROP DATABASE %s' % db, env)
    for r in sorted(set(admin('SELECT rolname FROM pg_roles', env).split()) - roles_before):
        admin('DROP ROLE "%s"' % r, env)
    # split what psql printed at the markers
    got, cur, seen = {}, None, []
    for l in out.split('\n'):
        m = re.match(r'^<<<acctsec-docs-block-(\d+)>>>$', l)
        if m:
            cur = int(m.group(1))
            seen.append(cur)
            got[cur] = []
        elif cur is not None:
            got[cur].append(l)
        elif l.strip():
            got.setdefault(-1, []).append(l)
    if seen != list(range(len(sqlb) + 1)) or -1 in got:
        sys.stdout.write('%s: psql stopped early (rc %d); its output:\n%s\n' % (path, rc, out))
        return len(sqlb), False
    ok = True
    for n, b in enumerate(sqlb):
        actual = norm('\n'.join(got[n]))
        expected = norm(blocks[b['out']]['text']) if b['out'] is not None else []
        b['actual'] = actual
        if actual != expected:
            ok = False
            if not write:
                first = b['start'] + 2
                sys.stdout.write('%s: the ```sql block at line %d printed other output than the page shows:\n'
                                 % (path, first - 1))
                sys.stdout.writelines(difflib.unified_diff(
                    [l + '\n' for l in expected], [l + '\n' for l in actual],
                    '%s:%d (shown in the page)' % (path, first - 1),
                    '%s:%d (printed by the server)' % (path, first - 1)))
    if write and not ok:
        # rewrite from the bottom up so line indexes stay valid
        for b in reversed(sqlb):
            new = b['actual']
            if b['out'] is not None:
                t = blocks[b['out']]
                if new:
                    lines[t['start'] + 1:t['end']] = new
                else:
                    del lines[b['end'] + 1:t['end'] + 1]
            elif new:
                lines[b['end'] + 1:b['end'] + 1] = ['', '```text'] + new + ['```']
        open(path, 'w', encoding='utf-8').write('\n'.join(lines))
        sys.stdout.write('%s: rewritten with the server\'s output\n' % path)
    return len(sqlb), ok


def main():
    args = sys.argv[1:]
    write = False
    if args and args[0] == '--write':
        write, args = True, args[1:]
    env = dict(os.environ)
    env.update(PGTZ='UTC', PGDATESTYLE='ISO, MDY', PGOPTIONS='-c lc_messages=C -c intervalstyle=postgres',
               PGCLIENTENCODING='UTF8', LC_ALL='C.UTF-8')
    env.pop('PAGER', None)
    env.pop('PSQL_PAGER', None)
    total, failed = 0, []
    for page in args:
        for problem in check_links(page):
            print(problem)
            failed.append(page)
        n, ok = run_page(page, env, write)
        total += n
        print('%s: %d SQL blocks %s' % (page, n, 'ok' if ok else 'FAILED'))
        if not ok and page not in failed:
            failed.append(page)
    print('%d SQL blocks in %d pages run; %d pages fail' % (total, len(args), len(failed)))
    return 1 if failed and not write else 0


if __name__ == '__main__':
    sys.exit(main())
