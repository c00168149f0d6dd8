#!/usr/bin/env python3
"""Writes a schema-1 store (the layout before compact profiles: a WITHOUT
ROWID table, every default spelled out in each body) of N profiles of 20
themes, to time the migration to schema 2 and compare the file sizes.

Usage: make-v1-store.py DATA_DIR N
"""
import json, random, sqlite3, sys, os

def body(i, rnd):
    return json.dumps({
        "brand_id": f"brand-{i:07d}", "display_name": f"Brand {i:07d}", "aliases": [], "category": "",
        "themes": [{"term": f"w{rnd.randrange(20000):05d}", "weight": round(rnd.uniform(0.3, 1.0), 2)}
                   for _ in range(20)],
        "topics": [], "competitors": [], "blocked_terms": [], "blocked_topics": [], "sensitivity_tolerance": [],
        "risk_appetite": "balanced", "audience_time_zone": "America/New_York", "active_windows": [],
        "quiet_hours": [], "approval_latency": [], "half_life_overrides": [],
        "frequency_caps": {"per_author_per_day": 0, "per_conversation_per_day": 0, "per_brand_per_hour": 0},
        "embedding": []}, separators=(",", ":"))

def main(data_dir, n):
    os.makedirs(data_dir, exist_ok=True)
    db = sqlite3.connect(os.path.join(data_dir, "kairos.db"))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("""CREATE TABLE brand_profiles (brand_id TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL,
                  updated_at_us INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID""")
    rnd = random.Random(11)
    rows = ((f"brand-{i:07d}", 1, 1772366400000000, body(i, rnd)) for i in range(n))
    db.executemany("INSERT INTO brand_profiles VALUES (?, ?, ?, ?)", rows)
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
