"""One phase of ``api_load.py`` in two minutes: the loop for trying a change to the scoring path.

The population, the trained model and the prepared databases of ``api_load.py`` are built
once into ``bench/out/quick/`` (about 70 s) and reused by every later run; each run starts
one ``txguard serve`` from the working tree on a fresh copy (a copied SQLite file, a
PostgreSQL database from the template, an emptied Redis namespace), runs ``wrk`` in rounds
alternating with the reference, and prints requests a second, requests per server
CPU-second and their same-run ratios. Optional: a constant-rate run (``--rate``), ten
batches of 1,000 (``--batch``), and a py-spy profile of the server under load (``--spy``,
samples only while holding the GIL; needs ``pip install py-spy``).

    python bench/api_quick.py [--phase sqlite-1w|pg-1w|pg-1w-redis] [--rounds 3] [--batch]
    python bench/api_quick.py --forget     # drop the prepared data (and its PostgreSQL template)

Not the figures to report: ``api_load.py`` is (every phase, fresh data, the machine's
details). Do not edit ``src/`` while it runs: the server imports the working tree.
"""

import argparse
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import time

import api_load as al
import psycopg
import redis

QUICK = al.OUT / "quick"
STATE = QUICK / "setup.pickle"


def prepared() -> al.Setup:
    """The prepared setup of an earlier run, or a new one (about 70 s)."""
    if STATE.exists():
        setup: al.Setup = pickle.loads(STATE.read_bytes())  # noqa: S301 -- our own file
        return setup
    QUICK.mkdir(parents=True, exist_ok=True)
    setup = al.Setup(
        work=QUICK, run="quick", stream=al.Stream(QUICK / "stream.csv"), lua=QUICK / "load.lua",
        token_key=os.urandom(24).hex(), api_key=al.generate(), pg_template="txguard_quick_template",
        server_cpus="0" if len(os.sched_getaffinity(0)) >= 2 else "", durations=al.QUICK, rate=1000,
    )  # fmt: skip
    al.prepare(setup, [p for p in al.PHASES if p.name in ("sqlite-1w", "pg-1w")])
    setup.pg_databases = []  # kept between runs; --forget drops the template
    STATE.write_bytes(pickle.dumps(setup))
    return setup


def forget() -> None:
    with psycopg.connect(al.POSTGRES, autocommit=True) as connection:
        phases = [p.name.replace("-", "_") for p in al.PHASES if p.database == "postgresql"]
        for name in ["txguard_quick_template", *(f"txguard_quick_template_{p}" for p in phases)]:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(QUICK, ignore_errors=True)


def fresh_copy(setup: al.Setup, phase: al.Phase) -> str:
    """The phase's database and Redis namespace, as new."""
    shutil.rmtree(setup.work / phase.name, ignore_errors=True)
    if phase.database == "postgresql":
        name = f"{setup.pg_template}_{phase.name.replace('-', '_')}"
        with psycopg.connect(al.POSTGRES, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    namespace = al._namespace(setup, phase)  # noqa: SLF001 -- the load bench's own naming
    if namespace is not None:
        client = redis.Redis.from_url(al.REDIS)
        for key in client.scan_iter(namespace + "*", count=1000):
            client.delete(key)
    return al.phase_database(setup, phase)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", default="sqlite-1w", choices=[p.name for p in al.PHASES])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4, help="length of one wrk round")
    parser.add_argument("--rate", type=int, default=0, help="then a constant-rate run, 30 s")
    parser.add_argument("--batch", action="store_true", help="then ten batches of 1,000")
    parser.add_argument("--spy", action="store_true", help="profile one round with py-spy")
    parser.add_argument("--forget", action="store_true", help="drop the prepared data")
    options = parser.parse_args()
    if options.forget:
        forget()
        return 0
    setup = prepared()
    setup.rate = options.rate or 1000
    setup.durations = al.Durations(warm_s=3, round_s=options.seconds, rounds=options.rounds,
                                   open_s=30, batches=10, settle_s=0)  # fmt: skip
    phase = next(p for p in al.PHASES if p.name == options.phase)
    url = fresh_copy(setup, phase)
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(0, set(cpus[1:]))
    tag = f"q{int(time.time())}-"
    with al.reference_server(setup, 1) as ref, al.txguard_server(setup, phase, url) as target:
        index = al.run_wrk(setup, target, tag + "w", 0, 3)["sent"]
        if options.spy:
            index += spy(setup, target, tag, index, options.seconds)
        rounds, references = [], []
        for _ in range(options.rounds):
            references.append(al.reference_rounds(setup, ref, options.seconds))
            rounds.append(al.run_wrk(setup, target, tag + "m", index, options.seconds))
            index += rounds[-1]["sent"]
        if rounds:
            report(rounds, references)
        if options.rate:
            time.sleep(1)
            found = al.run_open_loop(setup, target, tag + "o", index)
            index += found["scheduled"]
            al._print_open(setup, found)  # noqa: SLF001 -- printed as the load bench prints it
        if options.batch:
            batches = al.run_batches(setup, target.port, tag + "b", index)
            print(
                f"batch of {al.BATCH}: median {batches['median_ms']:.0f} ms {batches['times_ms']}"
            )
    return 0


def spy(setup: al.Setup, target: al.Running, tag: str, index: int, seconds: int) -> int:
    """One wrk round under py-spy; the profile goes to bench/out/quick/spy.txt (raw format)."""
    out = QUICK / "spy.txt"
    command = [str(al.BIN / "py-spy"), "record", "-p", str(target.pid), "-d", str(seconds),
               "-r", "250", "-f", "raw", "--gil", "-o", str(out)]  # fmt: skip
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found = al.run_wrk(setup, target, tag + "s", index, seconds + 1)
    profiler.wait()
    print(f"profile of a round at {found['rate']:,.0f} req/s: {out}")
    return int(found["sent"])


def report(rounds: list[dict[str, float]], references: list[dict[str, float]]) -> None:
    pairs = list(zip(rounds, references, strict=True))
    print(f"txguard req/s {[round(r['rate']) for r in rounds]}, per CPU-s "
          f"{[round(r['per_cpu_s']) for r in rounds]}, server cores "
          f"{[round(r['server_cores'], 2) for r in rounds]}; reference req/s "
          f"{[round(r['rate']) for r in references]}; ratio "
          f"{statistics.median(t['rate'] / r['rate'] for t, r in pairs):.3f}, per CPU-s "
          f"{statistics.median(t['per_cpu_s'] / r['per_cpu_s'] for t, r in pairs):.3f}; "
          f"5xx {sum(r['e5xx'] for r in rounds)}, other {sum(r['other'] for r in rounds)}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
