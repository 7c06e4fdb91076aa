#!/usr/bin/env python3
# bench/median.py OUTFILE RUNS -- BENCH ARGS...: runs the bench RUNS times with --csv, keeps every run's
# CSV in OUTFILE.runN.csv and prints a markdown table of per-case medians (and min/max of frac)
import subprocess, sys, statistics, csv, io
out, runs = sys.argv[1], int(sys.argv[2]); cmd = sys.argv[4:]
rows = {}; ceil = []
for r in range(runs):
    txt = subprocess.run(cmd + ['--csv'], capture_output=True, text=True).stdout
    open(f'{out}.run{r+1}.csv', 'w').write(txt)
    ceil += [l for l in txt.splitlines() if l.startswith('#')]
    for d in csv.DictReader(io.StringIO('\n'.join(l for l in txt.splitlines() if not l.startswith('#')))):
        key = (d['op'], d['dtype'], d['m'], d['n'], d['k'], d['dram'])
        rows.setdefault(key, []).append(d)
med = lambda v: statistics.median(v)
print('\n'.join(ceil))
print('| op | dtype | m x k | n | dram | median ms | GFLOP/s | GB/s | frac of ceiling (min-max) | ceiling | peer ratio |')
print('|---|---|---|---|---|---|---|---|---|---|---|')
for key, ds in rows.items():
    f = [float(d['frac']) for d in ds]
    ratio = [float(d['ratio']) for d in ds if d['peer'] != 'none']
    print(f"| {key[0]} | {key[1]} | {key[2]}x{key[4]} | {key[3]} | {'dram' if key[5]=='1' else 'cache'} | {med([float(d['median_ms']) for d in ds]):.3f} | "
          f"{med([float(d['gflops']) for d in ds]):.1f} | {med([float(d['gbps']) for d in ds]):.2f} | {med(f):.2f} ({min(f):.2f}-{max(f):.2f}) | "
          f"{med([float(d['ceiling']) for d in ds]):.1f} | {('%.2f' % med(ratio)) if ratio else '-'} |")
