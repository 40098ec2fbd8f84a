"""Twitch Helix constants (real endpoints; the simulator serves the same paths)."""

AUTH_BASE_URL = "https://id.twitch.tv"
API_BASE_URL = "https://api.twitch.tv"
TOKEN_PATH = "/oauth2/token"
STREAMS_PATH = "/helix/streams"
TOP_GAMES_PATH = "/helix/games/top"
PAGE_SIZE = 100  # Helix maximum for `first`
TOP_GAMES = 100  # how many top games to record per poll
TOKEN_REFRESH_MARGIN_SECONDS = 300  # fetch a new app token this long before it expires
MAX_TEXT_CHARS = 4096  # longer strings are treated as bad input (Helix titles are <= 140)
EARLIEST_VALID = "2007-01-01T00:00:00+00:00"  # before Justin.tv: an absurd timestamp
MAX_FUTURE_SECONDS = 86_400  # started_at more than a day after the poll is absurd
