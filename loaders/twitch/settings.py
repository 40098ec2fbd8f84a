"""Twitch Helix constants (real endpoints; the simulator serves the same paths)."""

AUTH_BASE_URL = "https://id.twitch.tv"
API_BASE_URL = "https://api.twitch.tv"
TOKEN_PATH = "/oauth2/token"
STREAMS_PATH = "/helix/streams"
TOP_GAMES_PATH = "/helix/games/top"
PAGE_SIZE = 100  # Helix maximum for `first`
TOP_GAMES = 100  # how many top games to record per poll
TOKEN_REFRESH_MARGIN_SECONDS = 300  # fetch a new app token this long before it expires
