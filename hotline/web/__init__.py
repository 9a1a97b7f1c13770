"""The web pages: wallboard, callback console and operator panel, served by the app itself.

The pages are static HTML, CSS and JavaScript modules (no build step); every piece of data
they show comes from the bearer-guarded API, so the pages themselves are public.
"""

from hotline.web.mount import PAGES, PUBLIC_PATHS, STATIC_DIR, STATIC_PATH, mount_web

__all__ = ["PAGES", "PUBLIC_PATHS", "STATIC_DIR", "STATIC_PATH", "mount_web"]
