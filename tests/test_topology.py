"""The deployment of docs/operations.md, started for real on loopback: two app processes, one
``chroma run``, one ``redis-server``, one articles folder.

Sixteen clients (each from a loopback address of its own, 127.0.0.10-25) ask across both
instances for a bounded run: no errors. One more client asks past the limit, alternating
instances: the limit holds once across both, not twice. An article added through one
instance is answered by the other at the next question; killing an instance loses no
article and the other goes on answering. The two /metrics, summed, count what was sent.
The figures go to test-artifacts/topology.json and the test's output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ONNX_CACHE, ROOT, SEED_FILE
from tests.redis_server import RedisServer, free_port
from tests.test_chroma_server import ChromaServer

pytestmark = pytest.mark.slow

TOKEN = "topology-admin-token"
LIMIT = 30  # per minute and client
CLIENTS, QUESTIONS_EACH = 16, 20  # under the limit: the load must see no 429
LIMITED_REQUESTS = 40  # one client past the limit: 30 answered, 10 refused, not 0
RUN_LIMIT_S = 240.0  # every client stops by then, whatever happens
ARTIFACT = ROOT / "test-artifacts" / "topology.json"
NEW_ARTICLE = {
    "id": "harbour-ferry-strike",
    "title": "Harbour ferry crews strike over rosters",
    "body": "Ferry crews in Port Allan walked out on Monday over new rosters.\n\n"
    "The union said the rosters cut rest between shifts to nine hours. "
    "Services to the islands will resume on Thursday, the operator said.",
}


def questions() -> list[str]:
    """Distinct questions from the seed article's fixtures (no answer is a repeat)."""
    found: list[str] = []
    for path in sorted((ROOT / "tests" / "fixtures").glob("north-korean-troops-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not json.loads(line).get("history"):
                found.append(json.loads(line)["question"])
    return list(dict.fromkeys(found))


def env_for(root: Path, chroma: ChromaServer, redis: RedisServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_ARTICLES_DIR=str(root / "articles"),
        ASSISTANT_CHROMA_URL=chroma.url,
        ASSISTANT_RATE_LIMIT=f"{LIMIT}/minute",
        ASSISTANT_RATE_LIMIT_STORAGE=redis.url,
        ASSISTANT_FEEDBACK_STORAGE=redis.url,
        ASSISTANT_ADMIN_TOKEN=TOKEN,
        ASSISTANT_ONNX_DIR=str(ONNX_CACHE),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    return env


@dataclass
class Instance:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def count(self, status: int, ms: float) -> None:
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if status == 200:
            self.latencies_ms.append(ms)


def start_instance(name: str, env: dict[str, str], root: Path) -> Instance:
    port = free_port()
    log = root / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return Instance(name, url, process, log)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"{name} did not answer /api/health: {log.read_text(errors='replace')[-2000:]}")


def wait_for_ui(instance: Instance) -> None:
    """Until ``/`` serves the UI (the page asks the assistant for its suggestions when it is
    built, which /metrics counts: the load's counts are taken after that)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if httpx.get(f"{instance.url}/", timeout=10).status_code == 200:
            return
        time.sleep(0.5)
    pytest.fail(f"{instance.name}: the UI did not start")


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Instance, Instance]]:
    root = tmp_path_factory.mktemp("topology")
    (root / "articles").mkdir()
    shutil.copy(SEED_FILE, root / "articles" / SEED_FILE.name)
    redis = RedisServer(root / "redis")
    chroma = ChromaServer(root / "chroma")
    redis.start()
    chroma.start()
    instances: list[Instance] = []
    try:
        env = env_for(root, chroma, redis)
        # the index is built once, before the instances start (as docs/operations.md says)
        subprocess.run(
            [sys.executable, "-m", "assistant", "index"], env=env, cwd=ROOT, check=True,
            capture_output=True, timeout=600,
        )  # fmt: skip
        instances = [start_instance(name, env, root) for name in ("app-a", "app-b")]
        for instance in instances:
            wait_for_ui(instance)
        yield instances[0], instances[1]
    finally:
        for instance in instances:
            if instance.process.poll() is None:
                instance.process.terminate()
                instance.process.wait(timeout=30)
        chroma.stop()
        redis.stop()


def ask(http: httpx.Client, instance: Instance, question: str, **body: str) -> httpx.Response:
    started = time.perf_counter()
    response = http.post(f"{instance.url}/api/ask", json={"question": question, **body})
    instance.count(response.status_code, (time.perf_counter() - started) * 1000)
    return response


def client_run(number: int, pair: tuple[Instance, Instance], pool: list[str]) -> int:
    """One client's questions, alternating instances; the questions it could not send."""
    transport = httpx.HTTPTransport(local_address=f"127.0.0.{10 + number}")
    deadline = time.monotonic() + RUN_LIMIT_S
    sent = 0
    with httpx.Client(transport=transport, timeout=60) as http:
        for i in range(QUESTIONS_EACH):
            if time.monotonic() > deadline:
                break
            question = pool[(number * QUESTIONS_EACH + i) % len(pool)]
            ask(http, pair[(number + i) % 2], question)
            sent += 1
    return QUESTIONS_EACH - sent


def scrape(instance: Instance) -> dict[str, float]:
    """Every sample of the instance's /metrics, labels folded into the name."""
    text = httpx.get(
        f"{instance.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def summed_delta(before: list[dict[str, float]], after: list[dict[str, float]], key: str) -> float:
    """How much ``key`` grew, summed over the instances."""
    return sum(
        later.get(key, 0) - earlier.get(key, 0)
        for earlier, later in zip(before, after, strict=True)
    )


def figures(instance: Instance) -> dict[str, object]:
    latencies = np.asarray(instance.latencies_ms or [0.0])
    return {
        "requests": sum(instance.statuses.values()),
        "statuses": dict(sorted(instance.statuses.items())),
        "errors": sum(n for s, n in instance.statuses.items() if s not in ("200", "429")),
        "rate_limited_429": instance.statuses.get("429", 0),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1),
        "p95_ms": round(float(np.percentile(latencies, 95)), 1),
    }


def test_two_instances_behave_as_one_service(topology: tuple[Instance, Instance]) -> None:
    a, b = topology
    pool = questions()
    assert len(pool) >= 40
    before = [scrape(i) for i in (a, b)]

    # 1. the load: 16 clients across both instances, bounded in count and time
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as clients:
        unsent = sum(clients.map(lambda n: client_run(n, (a, b), pool), range(CLIENTS)))
    load_s = time.perf_counter() - started
    load = {i.name: figures(i) for i in (a, b)}
    assert unsent == 0
    assert all(f["errors"] == 0 and f["rate_limited_429"] == 0 for f in load.values()), load

    # 2. one client past the limit, alternating instances: the limit once, not twice
    limited: dict[str, int] = {}
    transport = httpx.HTTPTransport(local_address="127.0.0.99")
    with httpx.Client(transport=transport, timeout=60) as http:
        for i in range(LIMITED_REQUESTS):
            status = ask(http, (a, b)[i % 2], pool[i % len(pool)]).status_code
            limited[str(status)] = limited.get(str(status), 0) + 1
    assert limited == {"200": LIMIT, "429": LIMITED_REQUESTS - LIMIT}
    totals = {i.name: figures(i) for i in (a, b)}  # the 429s fell on both instances

    # 3. the two /metrics, summed, count what was just sent
    scraped = [scrape(i) for i in (a, b)]
    answered = summed_delta(before, scraped, "assistant_questions_answered_total{mode=extractive}")
    refused_429 = summed_delta(before, scraped, "assistant_rate_limited_total{route=/api/ask}")
    assert answered == CLIENTS * QUESTIONS_EACH + LIMIT
    assert refused_429 == LIMITED_REQUESTS - LIMIT
    assert all(s["assistant_index_articles{}"] == 1 for s in scraped)

    # 4. an article added through one instance is answered by the other at once
    added = httpx.post(
        f"{a.url}/api/articles", json=NEW_ARTICLE,
        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120,
    )  # fmt: skip
    assert added.status_code == 201, added.text
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.100")) as http:
        reply = ask(http, b, "When will island services resume?", article=NEW_ARTICLE["id"])
    assert reply.status_code == 200, reply.text
    assert "Thursday" in reply.json()["answer"]

    # 5. one instance killed: nothing lost, the other answers
    a.process.kill()
    a.process.wait(timeout=30)
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.101")) as http:
        after = ask(http, b, "What did Orban say?")
        listed = http.get(f"{b.url}/api/articles").json()
    assert after.status_code == 200 and after.json()["citations"]
    assert {item["id"] for item in listed} == {SEED_FILE.stem, NEW_ARTICLE["id"]}
    articles_dir = Path(str(b.log.parent / "articles"))
    assert (articles_dir / f"{NEW_ARTICLE['id']}.md").exists() or any(
        p.stem == NEW_ARTICLE["id"] for p in articles_dir.iterdir()
    )

    report = {
        "clients": CLIENTS,
        "questions_per_client": QUESTIONS_EACH,
        "load_wall_s": round(load_s, 2),
        "load_answers_per_s": round(CLIENTS * QUESTIONS_EACH / load_s, 1),
        "load": load,
        "limit_per_client": f"{LIMIT}/minute",
        "one_client_past_the_limit": limited,
        "per_instance_after_both_runs": totals,
        "metrics_summed": {"answered": answered, "rate_limited_429": refused_429},
        "machine_cores": os.cpu_count(),
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("\ntopology:", json.dumps(report, indent=2))
