#!/usr/bin/env python3
"""Explains a change of the golden file line by line.

    KAIROS_GOLDEN_DUMP=/tmp/before.txt cargo test --test core golden   # before the change
    cp tests/fixtures/golden.txt /tmp/golden-before.txt
    ... change scoring, then ...
    KAIROS_BLESS=1 cargo test --test core golden
    KAIROS_GOLDEN_DUMP=/tmp/after.txt cargo test --test core golden
    scripts/golden-diff.py /tmp/golden-before.txt tests/fixtures/golden.txt /tmp/before.txt /tmp/after.txt

Prints, as Markdown, how many lines changed and why, then one row per
changed line: the case, the rules that moved it (read from its reasons
before and after), the decision before and after, and the fields that
moved. The generated cases are pinned as hashes; the dumps hold their
whole assessments, so their rows are as readable as the corpora's.
"""
import collections
import json
import re
import sys

HALF_LIFE = re.compile(r"half-life ([0-9.]+[mhd])")

CAUSES = {
    "idiom": "a death or weapon word nothing corroborates counts as a figure of speech (Low)",
    "murder": "murder, murdered and manslaughter moved from crime to death words (so they can be figures of speech)",
    "pile-on": "PILE_ON: a crowd piling on a private person (one act, or two kinds of talk) caps at REVIEW",
    "coded-echo": "ECHO_TRAP carrying coded hate, or hate, terror, adult or obscene content of its own, declines",
    "warned": "CROWD_WARNS_BRANDS: the crowd warns brands off the moment; caps at REVIEW",
    "foreign-script": "LOW_CONFIDENCE: written in a script the lexicons cannot read; caps at REVIEW",
    "echo": "more echo phrasings (read out, end each reply with, spell out, prompt injection) cap at REVIEW",
    "crisis": "BRAND_CRISIS: the brand's own moment (name or slogan as a hashtag) judged with irony frames, boycotts and faults as incidents, stories that tag the brand",
    "grey": "grey means REVIEW: high non-violent content where the brand is caught up in its own crisis, a values moment or a debated issue goes to people",
    "obligation": "what was addressed to the brand is an obligation: half-life at least 3 h",
    "rising": "a rising moment lives on a trend's horizon: half-life at least a trending topic's, x1.5",
    "complaint": "more complaint cues (boycotts, public goodbyes) count posts and mentions as grievances",
    "grief": "grief cues judged with the death words now read as figures of speech",
}


def load(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, payload = line.rstrip("\n").partition("\t")
            out[key] = payload
    return out


def whole(payload, dump, key):
    if payload.startswith("{"):
        return json.loads(payload)
    if key in dump:
        return json.loads(dump[key])
    return None


def reasons(a):
    return [(r["code"].lower(), r.get("detail", "")) for r in a.get("reasons", [])]


def half_lives(a):
    return sorted(set(h for _, d in reasons(a) for h in HALF_LIFE.findall(d)))


def causes(a, b):
    ra, rb = reasons(a), reasons(b)
    ca, cb = {c for c, _ in ra}, {c for c, _ in rb}
    da, db = "\n".join(d for _, d in ra), "\n".join(d for _, d in rb)
    out = []
    if "figure of speech" in db:
        out.append("idiom")
    if re.search(r"crime_harmful_acts \(\w+\) from \"(murder|murdered|manslaughter)", da):
        out.append("murder")
    if "pile_on" in cb - ca:
        out.append("pile-on")
    if "warned" not in out and "crowd_warns_brands" in cb - ca:
        out.append("warned")
    if "cannot read" in db and "cannot read" not in da:
        out.append("foreign-script")
    if "carrying hate or worse" in db:
        out.append("coded-echo")
    elif [d for c, d in rb if c == "echo_trap"] != [d for c, d in ra if c == "echo_trap"]:
        out.append("echo")
    if [d for c, d in rb if c == "brand_crisis"] != [d for c, d in ra if c == "brand_crisis"]:
        out.append("crisis")
    if [d for c, d in rb if c == "negative_sentiment"] != [d for c, d in ra if c == "negative_sentiment"]:
        out.append("complaint")
    if [d for c, d in rb if c == "grief_or_outrage"] != [d for c, d in ra if c == "grief_or_outrage"] \
            and "idiom" not in out:
        out.append("grief")
    if half_lives(a) != half_lives(b):
        out.append("rising" if "trend_rising" in cb else "obligation")
    if a.get("decision") == "decline" and b.get("decision") != "decline" and (
        "brand_crisis" in cb or "values_moment" in cb
    ) and "idiom" not in out:
        out.append("grey")
    return out or ["order of tied reasons (risk rules run in a new order)"]


def main():
    old, new, old_dump, new_dump = (load(p) for p in sys.argv[1:5])
    changed = [k for k in new if old.get(k) != new[k]]
    rows = []
    version_only = 0
    for key in changed:
        a = whole(old.get(key, "{}"), old_dump, key) or {}
        b = whole(new[key], new_dump, key) or {}
        if {**a, "model_version": None} == {**b, "model_version": None}:
            version_only += 1
            continue
        rows.append((key, a, b, causes(a, b)))
    print(f"{len(changed)} of {len(new)} lines changed: {version_only} only in `model_version`, "
          f"{len(rows)} in what they decide or say.\n")
    count = collections.Counter(c for *_, cs in rows for c in cs)
    decisions = collections.Counter(
        f"{a.get('decision')} → {b.get('decision')}" for _, a, b, _ in rows if a.get("decision") != b.get("decision"))
    print("| cause | lines | |\n|---|---|---|")
    for cause, n in count.most_common():
        print(f"| {cause} | {n} | {CAUSES.get(cause, '')} |")
    print("\n| decision change | lines |\n|---|---|")
    for change, n in decisions.most_common():
        print(f"| {change} | {n} |")
    print("\n| line | causes | decision | fields that moved |")
    print("|---|---|---|---|")
    for key, a, b, cs in rows:
        decision = (a.get("decision"), b.get("decision"))
        decision = decision[0] if decision[0] == decision[1] else f"**{decision[0]} → {decision[1]}**"
        moved = [f for f in ["relevance", "timing", "intrusiveness_risk", "confidence", "respond_by",
                             "max_review_latency", "recommended_mode", "reasons"] if a.get(f) != b.get(f)]
        print(f"| {key} | {', '.join(cs)} | {decision} | {', '.join(moved)} |")


if __name__ == "__main__":
    main()
