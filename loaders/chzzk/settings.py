"""Chzzk constants (real endpoints; the simulator serves the same paths)."""

SERVICE_BASE_URL = "https://api.chzzk.naver.com"  # public service API, no auth
OPENAPI_BASE_URL = "https://openapi.chzzk.naver.com"  # official Open API, Client-Id/Secret
OPENAPI_LIVES_PATH = "/open/v1/lives"
SERVICE_LIVES_PATH = "/service/v1/lives"
CHANNEL_PATH = "/service/v1/channels/{channel_id}"
OPENAPI_PAGE_SIZE = 20  # Open API maximum
SERVICE_PAGE_SIZE = 50
MAX_PAGES = 20_000  # safety stop for a cursor that never ends
CHANNEL_REFRESH_HOURS = 24  # channel details are re-fetched at most once a day per channel
MAX_CHANNEL_DETAILS = 200  # channel detail calls per poll (config: max_channel_details)
