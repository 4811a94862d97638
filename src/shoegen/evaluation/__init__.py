"""Scores for generated images and checkpoints: catalogue scores that need no weights (background, framing,
colour, sharpness, diversity, memorisation, marketplace rules) and model-based scores (CLIP, DINOv2)."""
