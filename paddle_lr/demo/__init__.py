"""The demo: a tiny detector trained on a generated shapes dataset with the in-graph schedule.

It uses only the library's public API (``paddle_lr``) and is what ``tools/train.py`` runs.
"""
