#!/usr/bin/env python3
"""RankBrands latency against the number of stored brands, and COMPACT
against FULL answer sizes: the figures of BENCHMARKS.md's scale section.

Usage: bench-scale.py ADDR   (a running server on an empty store)

Brands 0..999 draw 20 themes from words an event may contain; brands past
1,000 draw theirs from words no event contains, so they share no word with
it. RankBrands over every stored brand is timed (up to 200 calls or 40 s)
at 1,000, 10,000 and 50,000 stored brands; the top 50 must not change.
"""
import os, random, statistics, subprocess, sys, tempfile, time, importlib

import grpc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stubs():
    out = tempfile.mkdtemp(prefix="kairos-stubs-")
    proto = os.path.join(ROOT, "proto")
    files = [os.path.relpath(os.path.join(d, f), proto)
             for d, _, fs in os.walk(proto) for f in fs if f.endswith(".proto")]
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", proto,
                    "--python_out", out, "--grpc_python_out", out] + files, check=True)
    sys.path.insert(0, out)
    return {n: importlib.import_module(f"kairos.v1.{n}") for n in
            ("types_pb2", "scoring_service_pb2", "scoring_service_pb2_grpc",
             "brand_profile_service_pb2", "brand_profile_service_pb2_grpc")}


def main(addr):
    m = stubs()
    t, s, b = m["types_pb2"], m["scoring_service_pb2"], m["brand_profile_service_pb2"]
    ch = grpc.insecure_channel(addr, options=[("grpc.max_receive_message_length", 256 << 20)])
    profiles = m["brand_profile_service_pb2_grpc"].BrandProfileServiceStub(ch)
    scoring = m["scoring_service_pb2_grpc"].ScoringServiceStub(ch)
    rnd = random.Random(7)
    near = [f"w{i:05d}" for i in range(2000)]
    far = [f"v{i:05d}" for i in range(20000)]

    def prof(i, vocab):
        p = t.BrandProfile(brand_id=f"brand-{i:06d}", display_name=f"Brand {i:06d}",
                           audience_time_zone="America/New_York")
        for w in rnd.sample(vocab, 20):
            p.themes.add(term=w, weight=round(rnd.uniform(0.3, 1.0), 2))
        p.themes.add(term=f"zq{i:06d}widget", weight=1.0)
        return p

    def load(lo, hi, vocab):
        r = profiles.ImportBrandProfiles(
            (b.ImportBrandProfilesRequest(profile=prof(i, vocab)) for i in range(lo, hi)), timeout=600)
        assert r.rejected == 0, r

    ev = t.Event(id="scale-ev", kind=t.EVENT_KIND_TRENDING_TOPIC,
                 text="tonight " + " ".join(rnd.sample(near, 25)) + " zq000007widget zq000420widget")
    ev.occurred_at.seconds = 1773172800

    def rank():
        req = s.RankBrandsRequest(event=ev, k=50)
        req.now.seconds = 1773172900
        scoring.RankBrands(req, timeout=120)
        times, end = [], time.time() + 40
        while len(times) < 200 and time.time() < end:
            t0 = time.perf_counter()
            r = scoring.RankBrands(req, timeout=120)
            times.append(time.perf_counter() - t0)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        return statistics.median(times), p99, len(times), [a.brand_id for a in r.ranked]

    stored, tops = 0, []
    for target, vocab in ((1000, near), (10000, far), (50000, far)):
        t0 = time.time()
        load(stored, target, vocab)
        took = time.time() - t0
        p50, p99, n, top = rank()
        tops.append(top)
        print(f"RankBrands at {target:>6} stored brands: p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms "
              f"({n} calls, {len(top)} ranked; import of {target - stored} took {took:.1f} s)")
        stored = target
    print("top 50 identical at every size:", all(x == tops[0] for x in tops))

    # COMPACT against FULL: 10 events x 100 brands.
    evs = []
    for i in range(10):
        e = t.Event(id=f"c{i}", kind=t.EVENT_KIND_TRENDING_TOPIC, text=" ".join(rnd.sample(near, 30)))
        e.occurred_at.seconds = 1773172800
        evs.append(e)
    ids = [f"brand-{i:06d}" for i in range(100)]
    for name in ("ASSESSMENT_VIEW_FULL", "ASSESSMENT_VIEW_COMPACT"):
        req = s.ScoreBatchRequest(events=evs, brand_ids=ids, view=t.AssessmentView.Value(name))
        req.now.seconds = 1773172900
        r = scoring.ScoreBatch(req, timeout=60)
        print(f"ScoreBatch 10 x 100, {name}: {len(r.SerializeToString()) / len(r.results):.0f} bytes a pair")


if __name__ == "__main__":
    main(sys.argv[1])
