#!/usr/bin/env python3
"""Kairos from Python: load a brand profile, score a moment, print the
decision and why.

    pip install grpcio grpcio-tools
    python3 examples/python/score.py 127.0.0.1:50051

The stubs are generated from the repository's proto/ at run time (into a
temporary directory), so they always match the contract; to keep them, run
the same command yourself:

    python3 -m grpc_tools.protoc -I proto --python_out=OUT --grpc_python_out=OUT \
        proto/kairos/v1/*.proto
"""
import os
import subprocess
import sys
import tempfile

import grpc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def generate_stubs():
    out = tempfile.mkdtemp(prefix="kairos-py-")
    proto = os.path.join(ROOT, "proto")
    files = sorted(os.path.join("kairos", "v1", f)
                   for f in os.listdir(os.path.join(proto, "kairos", "v1")) if f.endswith(".proto"))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", proto,
                    f"--python_out={out}", f"--grpc_python_out={out}", *files], check=True)
    sys.path.insert(0, out)


def main(address):
    generate_stubs()
    from kairos.v1 import types_pb2 as t
    from kairos.v1 import brand_profile_service_pb2 as profiles
    from kairos.v1 import brand_profile_service_pb2_grpc as profiles_grpc
    from kairos.v1 import scoring_service_pb2 as scoring
    from kairos.v1 import scoring_service_pb2_grpc as scoring_grpc

    channel = grpc.insecure_channel(address)
    # With API keys, send the key on every call:
    #   metadata=[("authorization", "Bearer " + os.environ["KAIROS_API_KEY"])]
    profile = t.BrandProfile(
        brand_id="crumbly",
        display_name="Crumbly Cookies",
        aliases=["@crumbly"],
        category="Food & Drink",
        audience_time_zone="America/New_York",
        themes=[t.WeightedTerm(term=w, weight=0.9) for w in ("cookie", "dunk", "milk", "dark", "snack")],
    )
    stored = profiles_grpc.BrandProfileServiceStub(channel).UpsertBrandProfile(
        profiles.UpsertBrandProfileRequest(profile=profile), timeout=10).profile
    print(f"profile {stored.brand_id} stored at version {stored.version}")

    event = t.Event(
        id="stadium-blackout",
        kind=t.EVENT_KIND_LIVE_EVENT,
        text="The lights just went out at the stadium during the championship game, "
             "everyone is sitting in the dark waiting for power",
        hashtags=["#PowerOutage", "#GameDay"],
        audience_time_zone="America/New_York",
        velocity=t.Velocity(mentions_per_minute=4000, history_per_minute=[100, 600, 2000]),
    )
    event.occurred_at.GetCurrentTime()
    a = scoring_grpc.ScoringServiceStub(channel).Score(
        scoring.ScoreRequest(event=event, brand_id="crumbly"), timeout=10).assessment

    print(f"{t.Decision.Name(a.decision)} (mode {t.EngagementMode.Name(a.recommended_mode)}): "
          f"relevance {a.relevance:.2f}, timing {a.timing:.2f}, risk {a.intrusiveness_risk:.2f}, "
          f"opportunity {a.opportunity:.2f}")
    if a.HasField("respond_by"):
        print(f"respond by {a.respond_by.ToJsonString()}")
    for r in a.reasons:
        print(f"  {t.ReasonCode.Name(r.code):<28} {r.contribution:+.2f}  {r.detail}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: score.py HOST:PORT")
    main(sys.argv[1])
