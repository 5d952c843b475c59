"""The unit tier: the progress service called straight, at explicit moments (support/service.py)."""
