"""Pollers: fetch (HTTP), parse (feedparser / JSON Feed), schedule (when next), discover."""
