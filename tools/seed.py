"""`make seed`: load realistic, deterministic sample events into the configured table.

    .venv/bin/python -m tools.seed [--count 200] [--seed 2026] [--table NAME]
        [--endpoint URL | --aws]

Event n of seed s is always the same event, with eventId `sample-<s>-<n>`: a larger
count adds events and keeps the first ones. Writing is put-if-absent (see
TableAdmin.put_many), so a second run adds nothing and never undoes a user's edits.

The table is the one the service would use (EVENTS_TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB),
else the DynamoDB Local of a running `make run`; AWS only with --aws (see tools/target.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from collections.abc import Iterator

from service.errors import StoreUnavailable
from service.models import EventCreate, EventStatus
from service.store import EventRecord, rfc3339
from tools.table_admin import TableAdmin
from tools.target import add_target_arguments, resolve

DEFAULT_COUNT = 200
DEFAULT_SEED = 2026
# Dates spread over three years around this day: events before it are over (completed,
# or cancelled), later ones are coming up (active, or cancelled).
REFERENCE_DAY = dt.date(2026, 1, 1)
FIRST_DAY = dt.date(2025, 1, 1)
DAYS = 3 * 365
ONLINE_SHARE = 0.12
CHUNK = 100  # events per put_many call: one progress-bar step

TOPICS = (
    "Python",
    "Rust",
    "Go",
    "TypeScript",
    "Kubernetes",
    "PostgreSQL",
    "Data Engineering",
    "Machine Learning",
    "Web Accessibility",
    "Cloud Security",
    "Platform Engineering",
    "Product Design",
    "Open Source",
    "Site Reliability",
    "Mobile Development",
    "Climate Tech",
)
# (name, capacity range, what happens there)
FORMATS = (
    ("Meetup", (30, 150), "An evening of talks and conversation"),
    ("Workshop", (12, 40), "A hands-on day with exercises and coaching"),
    ("Conference", (300, 5000), "Two days of talks, keynotes and hallway track"),
    ("Summit", (150, 1500), "Practitioners compare notes on what works in production"),
    ("Hackathon", (40, 400), "A weekend of building in small teams"),
    ("Study Group", (8, 30), "A small group reads and discusses one chapter a week"),
    ("Lightning Talks Night", (40, 200), "Five-minute talks, open mic after the break"),
)
# (city, region or country, venue)
PLACES = (
    ("Berlin", "Germany", "Kulturbrauerei"),
    ("Lisbon", "Portugal", "LX Factory"),
    ("Pittsburgh", "PA", "David L. Lawrence Convention Center"),
    ("Austin", "TX", "Capital Factory"),
    ("Toronto", "ON", "MaRS Discovery District"),
    ("Nairobi", "Kenya", "iHub"),
    ("Bangalore", "India", "NIMHANS Convention Centre"),
    ("São Paulo", "Brazil", "Cubo Itaú"),
    ("Tokyo", "Japan", "Shibuya Stream Hall"),
    ("Melbourne", "VIC", "State Library Victoria"),
    ("Dublin", "Ireland", "The Digital Hub"),
    ("Kraków", "Poland", "ICE Kraków"),
    ("Cape Town", "South Africa", "Workshop17"),
    ("Montréal", "QC", "Palais des congrès"),
    ("Singapore", "Singapore", "Block71"),
)
ORGANIZER_PATTERNS = (
    "{topic} {city} User Group",
    "{topic} Community {city}",
    "Friends of {topic}",
    "{city} Tech Collective",
    "The {topic} Foundation",
    "Women Who Code {city}",
)
EXTRAS = (
    "Beginners are welcome; slides and recordings are shared afterwards.",
    "Food and drinks are provided by the hosts.",
    "Talks are in English, with live captions.",
    "The venue is step-free; quiet room available.",
    "Bring a laptop with a recent toolchain installed.",
    "Sponsored seats are available for students.",
)


def sample_event(seed: int, number: int) -> EventRecord:
    """Event `number` of the set `seed`: the same on every run and every machine."""
    # A string seed is hashed with SHA-512, so it does not depend on PYTHONHASHSEED.
    rng = random.Random(f"events-api:{seed}:{number}")  # noqa: S311 - sample data, not secrets
    topic = rng.choice(TOPICS)
    kind, (fewest, most), blurb = rng.choice(FORMATS)
    city, where, venue = rng.choice(PLACES)  # for an online event, where its organizers are
    online = rng.random() < ONLINE_SHARE
    day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
    if day < REFERENCE_DAY:
        status = EventStatus.COMPLETED if rng.random() < 0.9 else EventStatus.CANCELLED
    else:
        status = EventStatus.ACTIVE if rng.random() < 0.88 else EventStatus.CANCELLED
    fields = EventCreate.model_validate(
        {
            "eventId": f"sample-{seed}-{number:06d}",
            "title": f"{topic} {kind} {'Online' if online else city} {day.year}",
            "description": f"{blurb} on {topic}. {rng.choice(EXTRAS)}",
            "date": day.isoformat(),
            "location": "Online" if online else f"{venue}, {city}, {where}",
            "capacity": rng.randint(fewest, most) * (3 if online else 1),
            "organizer": rng.choice(ORGANIZER_PATTERNS).format(topic=topic, city=city),
            "status": status,
        }
    )
    # Announced two weeks to six months ahead, and before the reference day.
    announced = min(
        day - dt.timedelta(days=rng.randint(14, 180)),
        REFERENCE_DAY - dt.timedelta(days=rng.randint(1, 60)),
    )
    created = dt.datetime.combine(
        announced, dt.time(rng.randrange(8, 18), rng.randrange(60), rng.randrange(60)), dt.UTC
    )
    stamp = rfc3339(created)
    return fields.model_dump(by_alias=True, mode="json") | {
        "createdAt": stamp,
        "updatedAt": stamp,
        "version": 1,
    }


def sample_events(count: int, seed: int = DEFAULT_SEED) -> Iterator[EventRecord]:
    return (sample_event(seed, number) for number in range(count))


def load_samples(admin: TableAdmin, count: int, seed: int, progress: bool = True) -> int:
    """Write the sample set put-if-absent; returns how many events were new."""
    from tqdm import tqdm

    written = 0
    batch: list[EventRecord] = []
    with tqdm(total=count, unit="event", desc="seeding", disable=not progress) as bar:
        for event in sample_events(count, seed):
            batch.append(event)
            if len(batch) == CHUNK:
                written += admin.put_many(batch)
                bar.update(len(batch))
                batch = []
        if batch:
            written += admin.put_many(batch)
            bar.update(len(batch))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="events in the set")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="which sample set")
    add_target_arguments(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must be 0 or more")

    settings, target = resolve(args)
    print(f"Seeding {args.count} sample events (seed {args.seed}) into {target}.")
    try:
        admin = TableAdmin.from_settings(settings)
        written = load_samples(admin, args.count, args.seed, progress=not args.no_progress)
    except StoreUnavailable as error:
        print(
            f"error: {error} Is the table there, and the endpoint up? Target: {target}. "
            "`make run` creates the table locally; for a stack, set EVENTS_TABLE_NAME to its "
            "tableName output.",
            file=sys.stderr,
        )
        return 1
    print(f"{written} written, {args.count - written} already there (left as they are).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
