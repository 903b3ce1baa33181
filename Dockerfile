# The article assistant as one app container (see docs/operations.md and compose.yaml).
# Build the wheel first, in a checkout: pip wheel --no-deps -w dist .
# Not built in this project's CI (no container runtime there): kept minimal and conventional.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False \
    ASSISTANT_HOST=0.0.0.0 ASSISTANT_PORT=7860 \
    ASSISTANT_ARTICLES_DIR=/data/articles ASSISTANT_CHROMA_DIR=/data/chroma \
    ASSISTANT_ONNX_DIR=/data/onnx ASSISTANT_FEEDBACK_FILE=/data/feedback.jsonl

WORKDIR /app
# the versions CI passed with, then the wheel (the default prompts are inside it)
COPY constraints.txt /app/constraints.txt
COPY dist/article_assistant-*.whl /app/
RUN pip install -c constraints.txt /app/article_assistant-*.whl

RUN useradd --create-home --uid 1000 assistant && mkdir -p /data && chown assistant /data
USER assistant
VOLUME ["/data"]
EXPOSE 7860
CMD ["assistant", "serve"]
