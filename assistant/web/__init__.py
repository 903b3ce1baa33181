"""Web front ends of the assistant; ``assistant.web.ui`` holds the Gradio UI.

Nothing is imported here, so importing one front end does not pay for the others.
"""
