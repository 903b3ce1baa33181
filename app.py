"""Start the web app, Gradio UI at ``/`` and HTTP API under ``/api``: ``python app.py``.

It listens on $HOST:$PORT, default 127.0.0.1:7860.
"""

import os

# before gradio is imported: no usage reports, and no model hub to reach at run time
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main() -> None:
    """Read the settings and serve the web app (UI and HTTP API)."""
    from assistant.config import Settings
    from assistant.errors import AssistantError
    from assistant.web.ui import launch

    try:
        launch(
            Settings(),
            host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ.get("PORT", "7860")),
        )
    except AssistantError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
