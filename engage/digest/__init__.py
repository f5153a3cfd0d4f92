"""The daily digest: when it is due (`due`), the e-mail that carries it (`mail`), and the
once-a-day sender the daemon calls on every tick (`daily`)."""
