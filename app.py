"""Start the web app, Gradio UI at ``/`` and HTTP API under ``/api``: ``python app.py``.

It listens on ``ASSISTANT_HOST``:``ASSISTANT_PORT``, default 127.0.0.1:7860 (``HOST`` and
``PORT``, read here before those settings existed, still work when they are unset).
"""

import os

# before gradio is imported: no usage reports, and no model hub to reach at run time
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def legacy_address() -> dict[str, str]:
    """``HOST`` and ``PORT`` from the environment, where the new names are not set."""
    return {
        name.lower(): os.environ[name]
        for name in ("HOST", "PORT")
        if os.environ.get(name) and f"ASSISTANT_{name}" not in os.environ
    }


def main() -> None:
    """Read the settings and serve the web app (UI and HTTP API)."""
    from assistant.config import load_settings
    from assistant.errors import AssistantError

    try:
        # the settings first: a bad value fails at once, before gradio is imported
        settings = load_settings(**legacy_address())
        from assistant.startup import collector_paused

        with collector_paused():  # this process's start (assistant/startup.py)
            from assistant.web.server import launch

        launch(settings, host=settings.host, port=settings.port)
    except AssistantError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
