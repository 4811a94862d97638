"""The base model every command and the service start from unless told otherwise."""

DEFAULT_BASE_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
"""SD1.5 on the Hugging Face hub; a local folder, a single file or a built-in base (`demo`, `tiny`) also work."""
