"""Steam constants (real endpoints; the simulator serves the same paths)."""

WEB_API_BASE_URL = "https://api.steampowered.com"
STORE_BASE_URL = "https://store.steampowered.com"
CURRENT_PLAYERS_PATH = "/ISteamUserStats/GetNumberOfCurrentPlayers/v1/"
MOST_PLAYED_PATH = "/ISteamChartsService/GetMostPlayedGames/v1/"
APPDETAILS_PATH = "/api/appdetails"
REVIEWS_PATH = "/appreviews/{appid}"
NEWS_PATH = "/ISteamNews/GetNewsForApp/v2/"
NEWS_EVERY_MINUTES = 60  # Web API, no key: each tracked app's latest news at most hourly
NEWS_COUNT = 10  # items per call (newest first); updates are rarer than that per hour
COUNTRY = "kr"  # prices in KRW (minor units, x100, as the Store sends them)
PRICE_CHUNK = 50  # appids per multi-app price call (works only with filters=price_overview)
REVIEWS_EVERY_MINUTES = 60
DETAILS_EVERY_MINUTES = 24 * 60
# The Store throttles at ~200 requests / 5 minutes. Prices are reserved first; reviews and
# app details share what is left and the stalest apps go first, the rest wait a poll.
MAX_STORE_CALLS = 150
#: Web API calls in flight at once in a poll (current players: one call per app); the HTTP
#: session's connection pool holds as many. Source config `concurrent_calls`
#: (SOURCES__STEAM__CONCURRENT_CALLS): 1 against a server on the same machine, where waiting is
#: short and threads only cost CPU (the demo's simulator)
CONCURRENT_CALLS = 4
ROWS_PER_BATCH = 500  # one-call-per-app endpoints: rows per yielded arrow table
# The product's game list: package data, a copy of the dbt seed `seeds/games.csv` (a test keeps
# them identical), so an installed loader tracks the same apps as a checkout.
SEED_GAMES = "games.csv"
# contents are cut to this many characters by the API (the rest stays on the linked page)
NEWS_MAXLENGTH = 2000
