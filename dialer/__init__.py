"""Outbound campaigns, lists, pacing, AMD and do-not-call. Not built yet."""
