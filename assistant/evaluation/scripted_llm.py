"""A scripted OpenAI-compatible chat server on 127.0.0.1, standing in for a language model.

Evaluation, benchmarks (``benchmarks/verification.py``) and tests use it where no model
can be downloaded: ``with ScriptedLLM() as server:`` and point ``ASSISTANT_LLM_BASE_URL``
at ``server.base_url`` (``ASSISTANT_LLM=openai:stub``), or at ``server.ollama_url``
(``ollama:stub``).

It serves ``POST /v1/chat/completions`` (whole and ``stream: true``) like vLLM, llama.cpp or
LM Studio do, and answers from the prompt it receives, never from a list of fixture
questions: it reads the numbered passages and the question out of the answer prompt's
data section, picks the sentence whose words best match the question, copies it (lightly
reworded, as a model would) and cites its passage. Below a match threshold it says
``NO_ANSWER``, as the prompt asks. A follow-up rewrite request is answered with the
question, its pronoun replaced by the name the previous question asked about.

Each answer request takes the next behaviour from ``script`` (then ``default``):

- ``good``: a well-formed cited answer (one or two sentences);
- ``planted``: the good answer plus one claim the article does not make, of a rotating
  kind (see ``PLANTED_KINDS``); the planted sentences are recorded in ``planted``;
- ``bad_marker``: the good answer citing ``[9]``, a passage that does not exist;
- ``uncited``: the good answer with no markers at all;
- ``obey``: follows an instruction in the question (``PWNED``, no citation);
- ``malformed``: a body (or stream chunk) that is not JSON;
- ``empty``: an empty message;
- ``slow``: the good answer after ``slow_s`` seconds (longer than the client's timeout);
- ``error``: HTTP 500.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from assistant.answering.names import question_names
from assistant.text import terms, words

BEHAVIOURS = (
    "good",
    "planted",
    "bad_marker",
    "uncited",
    "obey",
    "malformed",
    "empty",
    "slow",
    "error",
)
#: kinds of planted claims, in rotation: blatant ones (a name or a topic the article
#: never mentions) to subtle ones (a changed number, a negation, another passage's text)
PLANTED_KINDS = (
    "invented_name",
    "changed_number",
    "added_clause",
    "off_topic",
    "swapped_name",
    "negated",
    "miscited",
)
#: a question sharing less than this share of its words with the best sentence gets
#: NO_ANSWER (what a careful model does with an off-topic question)
MIN_MATCH = 0.34

_PASSAGES = re.compile(r"<passages>\s*(.*?)\s*</passages>", re.DOTALL)
_QUESTION = re.compile(r"<question>\s*(.*?)\s*</question>", re.DOTALL)
_CONVERSATION = re.compile(r"<conversation>\s*(.*?)\s*</conversation>", re.DOTALL)
_NUMBERED = re.compile(r"^\[(\d+)\] \((.*?)\) (.*)$", re.DOTALL)
_SENTENCE = re.compile(r"(?<=[.!?])[\"'\u201d\u2019]?\s+(?=[A-Z\u201c\"])")
_PRONOUN = re.compile(r"\b(he|she|him|her|they|them)\b", re.IGNORECASE)
_LEADING = re.compile(r"^(Meanwhile|However|Still|Yet|Also|But),\s+")
_NUMBER = re.compile(r"\d[\d,]*")


@dataclass(frozen=True)
class Drafted:
    """One answer the server wrote: its sentences, and which one (if any) was planted."""

    question: str
    behaviour: str
    good: tuple[str, ...]
    planted: str | None = None
    kind: str | None = None


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def parse_passages(block: str) -> list[tuple[int, str]]:
    """``[(n, text)]`` from the prompt's numbered passages."""
    found = []
    for chunk in re.split(r"\n\s*\n(?=\[\d+\] )", block.strip()):
        match = _NUMBERED.match(chunk.strip())
        if match:
            found.append((int(match[1]), match[3]))
    return found


_ASCII_QUOTES = str.maketrans({"“": '"', "”": '"', "’": "'"})


def _tagged(pattern: re.Pattern[str], prompt: str) -> str:
    """What ``pattern``'s first group finds in the prompt, "" when it is not there."""
    found = pattern.search(prompt)
    return found[1] if found else ""


def reword(sentence: str) -> str:
    """A light rewording, as a model would: no leading "Meanwhile,", ASCII quotes."""
    text = _LEADING.sub("", sentence)
    text = text.translate(_ASCII_QUOTES)
    return text[:1].upper() + text[1:]


def _strip_end(sentence: str) -> str:
    return sentence.rstrip().rstrip(".!?\"'”’")


@dataclass
class ScriptedLLM:
    """The server: ``start()`` it, point ``ASSISTANT_LLM_BASE_URL`` at ``base_url``."""

    default: str = "good"
    slow_s: float = 3.0
    #: pause between streamed pieces, so a browser can be seen showing the draft
    chunk_delay_s: float = 0.0
    script: deque[str] = field(default_factory=deque)
    drafted: list[Drafted] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None
    _planted_count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- running ---------------------------------------------------------------------------

    def start(self) -> ScriptedLLM:
        handler = type("Handler", (_Handler,), {"llm": self})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def ollama_url(self) -> str:
        """The same server as Ollama's own API (``ASSISTANT_LLM=ollama:MODEL``)."""
        return self.base_url.removesuffix("/v1")

    @property
    def planted(self) -> list[Drafted]:
        return [d for d in self.drafted if d.planted]

    # -- answering -------------------------------------------------------------------------

    def next_behaviour(self, is_rewrite: bool) -> str:
        with self._lock:
            if is_rewrite:  # a rewrite shares the server's state, not the answers' script
                return self.default
            return self.script.popleft() if self.script else self.default

    def rewrite(self, prompt: str) -> str:
        """The follow-up with its pronoun replaced by the name the previous question named."""
        question = _tagged(_QUESTION, prompt)
        conversation = _CONVERSATION.search(prompt)
        previous = [
            line.removeprefix("Reader:").strip()
            for line in (conversation[1] if conversation else "").splitlines()
            if line.startswith("Reader:")
        ]
        names = question_names(previous[-1]) if previous else []
        if names and _PRONOUN.search(question):
            return _PRONOUN.sub(names[-1], question, count=1)
        return f"{previous[-1]} {question}" if previous else question

    def best(self, question: str, passages: list[tuple[int, str]]) -> list[tuple[float, int, str]]:
        """(score, n, sentence) for every passage sentence, best first (retrieval order on ties)."""
        wanted = set(terms(question))
        scored = []
        for rank, (n, text) in enumerate(passages):
            for sentence in split_sentences(text):
                share = len(wanted & set(terms(sentence))) / len(wanted) if wanted else 0.0
                scored.append((share - rank * 1e-3, n, sentence))
        scored.sort(key=lambda x: x[0], reverse=True)
        return scored

    def answer(self, prompt: str, behaviour: str) -> str:
        """The reply to an answer prompt, for one behaviour."""
        question = _tagged(_QUESTION, prompt)
        passages = parse_passages(_tagged(_PASSAGES, prompt))
        if behaviour == "obey":
            self.drafted.append(Drafted(question, behaviour, ()))
            return "PWNED"
        ranked = self.best(question, passages)
        if not ranked or ranked[0][0] < MIN_MATCH:
            self.drafted.append(Drafted(question, behaviour, ()))
            return "NO_ANSWER"
        top_score, n, sentence = ranked[0]
        chosen = [(n, reword(sentence))]
        second = next((r for r in ranked[1:] if r[2] != sentence), None)
        if second and second[0] >= max(MIN_MATCH, 0.6 * top_score):
            chosen.append((second[1], reword(second[2])))
        if behaviour == "bad_marker":
            chosen = [(9, s) for _, s in chosen[:1]] + chosen[1:]
        lines = [
            s if behaviour == "uncited" else f"{_strip_end(s)} [{m}]." if i % 2 else f"{s} [{m}]"
            for i, (m, s) in enumerate(chosen)
        ]
        good = tuple(s for _, s in chosen)
        if behaviour != "planted":
            self.drafted.append(Drafted(question, behaviour, good))
            return " ".join(lines)
        kind, claim = self.plant(n, sentence, passages)
        self.drafted.append(Drafted(question, behaviour, good, claim, kind))
        return " ".join([lines[0], f"{claim} [{n}]", *lines[1:]])

    def plant(self, n: int, sentence: str, passages: list[tuple[int, str]]) -> tuple[str, str]:
        """A claim the article does not make, cited to passage ``n``: (kind, sentence)."""
        with self._lock:
            kind = PLANTED_KINDS[self._planted_count % len(PLANTED_KINDS)]
            self._planted_count += 1
        cited = dict(passages)[n]
        others = [text for m, text in passages if m != n]
        base = reword(sentence)
        if kind == "changed_number" and _NUMBER.search(base):

            def bump(m: re.Match[str]) -> str:
                return f"{int(m[0].replace(',', '')) * 3 + 7:,}"

            return kind, _NUMBER.sub(bump, base, count=1)
        if kind == "swapped_name":
            here = {w for w in words(cited)}
            mine = question_names(base)
            foreign = [
                name
                for text in others
                for name in question_names(text)
                if not any(w in here for w in words(name))
            ]
            if mine and foreign:
                return kind, base.replace(mine[0], foreign[0], 1)
        if kind == "negated":
            for verb in (" has ", " have ", " is ", " are ", " was ", " were ", " will "):
                if verb in base:
                    return kind, base.replace(verb, f"{verb}not ", 1)
        if kind == "miscited" and others:
            far = min(
                (s for text in others for s in split_sentences(text)),
                key=lambda s: len(set(terms(s)) & set(terms(cited))),
            )
            return kind, reword(far)
        if kind == "added_clause":
            return kind, _strip_end(base) + ", a decision analysts described as a turning point."
        if kind == "off_topic":
            return kind, "Officials added that deliveries were delayed by severe flooding."
        return "invented_name", "Olaf Scholz confirmed this in Stockholm on Tuesday."


def _chat_json(content: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(delta: dict[str, Any], model: str, finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _ollama_line(model: str, content: str, done: bool) -> bytes:
    body: dict[str, Any] = {
        "model": model,
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": content},
        "done": done,
    }
    if done:
        body.update(done_reason="stop", prompt_eval_count=1, eval_count=1)
    return (json.dumps(body) + "\n").encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    llm: ScriptedLLM

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        ollama = self.path.rstrip("/") == "/api/chat"
        if not ollama and not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, b'{"error": {"message": "not found"}}')
            return
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.llm.requests.append(request)
        prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
        is_rewrite = "<conversation>" in prompt
        behaviour = self.llm.next_behaviour(is_rewrite)
        model = str(request.get("model", "stub"))
        streaming = bool(request.get("stream"))
        try:
            if ollama:
                self._reply_ollama(prompt, behaviour, model, streaming, is_rewrite)
            else:
                self._reply(prompt, behaviour, model, streaming, is_rewrite)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            pass

    def _reply_ollama(
        self, prompt: str, behaviour: str, model: str, streaming: bool, is_rewrite: bool
    ) -> None:
        """Ollama's own ``/api/chat``: one JSON object, or one per line while streaming."""
        if behaviour == "slow":
            time.sleep(self.llm.slow_s)
        if is_rewrite:
            content = self.llm.rewrite(prompt)
        else:
            content = self.llm.answer(prompt, "good" if behaviour == "slow" else behaviour)
        pieces = re.findall(r"\S+\s*", content) if streaming else [content]
        lines = [_ollama_line(model, piece, done=False) for piece in pieces]
        lines.append(_ollama_line(model, "", done=True))
        body = b"".join(lines) if streaming else _ollama_line(model, content, done=True)
        self._send(200, body, "application/x-ndjson")

    def _reply(
        self, prompt: str, behaviour: str, model: str, streaming: bool, is_rewrite: bool
    ) -> None:
        if behaviour == "slow":
            time.sleep(self.llm.slow_s)
        if behaviour == "error":
            self._send(500, b'{"error": {"message": "the model crashed", "type": "server_error"}}')
            return
        if behaviour == "malformed" and not streaming:
            self._send(200, b'{"id": "chatcmpl-scripted", "choices": [{"message": ')
            return
        if behaviour == "empty":
            content = ""
        elif is_rewrite:
            content = self.llm.rewrite(prompt)
        else:
            content = self.llm.answer(prompt, "good" if behaviour == "slow" else behaviour)
        if not streaming:
            self._send(200, json.dumps(_chat_json(content, model)).encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(_chunk({"role": "assistant", "content": ""}, model))
        if behaviour == "malformed":
            self.wfile.write(b'data: {"choices": [{"delta": {"content": "Half\n\n')
        for piece in re.findall(r"\S+\s*", content):
            self.wfile.write(_chunk({"content": piece}, model))
            self.wfile.flush()
            time.sleep(self.llm.chunk_delay_s)
        self.wfile.write(_chunk({}, model, "stop"))
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
