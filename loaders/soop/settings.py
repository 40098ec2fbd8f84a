"""SOOP (formerly AfreecaTV) constants (real endpoints; the simulator serves the same paths)."""

OPENAPI_BASE_URL = "https://openapi.sooplive.co.kr"  # official, needs client_id
WEB_BASE_URL = "https://live.sooplive.co.kr"  # public web list (old host live.afreecatv.com)
SEARCH_BASE_URL = "https://sch.sooplive.co.kr"  # category names
OPENAPI_LIST_PATH = "/broad/list"
WEB_LIST_PATH = "/api/main_broad_list_api.php"
CATEGORY_PATH = "/api.php"
PAGE_SIZE = 60  # both list variants answer 60 per page; a shorter page is the last
CATEGORY_PAGE_SIZE = 120
MAX_PAGES = 5_000  # safety stop
MAX_CATEGORY_PAGES = 20
BROWSER_HEADERS = {  # the public web list expects a browser
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    ),
    "Referer": "https://www.sooplive.co.kr/",
    "Accept": "application/json, text/plain, */*",
}
