"""Reddit as a candidate source, through `praw` with read-only application credentials.

Reddit's API rules (https://support.reddithelp.com/hc/en-us/articles/16160319875092) ask for
OAuth, a unique descriptive User-Agent of the form `<platform>:<app ID>:<version> (by /u/<name>)`
and respect for rate limits; praw/prawcore authenticate and pace requests by Reddit's
`X-Ratelimit-*` headers.  We take image posts and galleries (`media_metadata`) and skip
`over_18` posts unless asked.  Endpoints come from praw's own settings (`oauth_url`,
`reddit_url` in praw.ini), or from the environment as `praw_oauth_url` / `praw_reddit_url`.
"""
from __future__ import annotations

import argparse
import os
import re
from typing import Iterator
from urllib.parse import urlparse

from condgan.errors import UserError
from condgan.scrape.api import require_env
from condgan.scrape.manifest import Candidate
from condgan.scrape.net import RetryPolicy, scrub

NAME = "reddit"
LICENSE = "all rights reserved (Reddit user content; ask the author)"
KEY_HELP = ("create a 'script' app at https://www.reddit.com/prefs/apps and copy its id and "
            "secret")
UA_FORMAT = re.compile(r"^[^:\s]+:[^:\s]+:[^:\s]+ \(by /?u/[A-Za-z0-9_-]{3,20}\)$")
UA_EXAMPLE = "python:condgan-dataset:v0.1 (by /u/your_username)"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
IMAGE_HOSTS = ("i.redd.it", "i.imgur.com")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Reddit")
    group.add_argument("--subreddit", required=True, help="subreddit name without r/, e.g. cats")
    group.add_argument("--sort", default="top", choices=("hot", "new", "top", "relevance"),
                       help="listing order (relevance only with --query)")
    group.add_argument("--time", dest="time_filter", default="all",
                       choices=("hour", "day", "week", "month", "year", "all"))
    group.add_argument("--allow-nsfw", action="store_true", help="keep over_18 posts (skipped by default)")


def check_user_agent(user_agent: str) -> str:
    if not UA_FORMAT.match(user_agent):
        raise UserError(f"REDDIT_USER_AGENT {user_agent!r} is not in Reddit's required format "
                        f"'<platform>:<app ID>:<version> (by /u/<username>)', e.g. {UA_EXAMPLE!r}")
    return user_agent


def is_image_url(url: str) -> bool:
    parsed = urlparse(url or "")
    return parsed.scheme in ("http", "https") and (
        parsed.path.lower().endswith(IMAGE_SUFFIXES) or parsed.netloc in IMAGE_HOSTS)


def post_images(data: dict) -> list[tuple[str, str]]:
    """(key suffix, url) for each still image of a post: the post itself or its gallery items.

    `data` is the post's listing JSON (`vars(submission)`): reading attributes that a listing
    lacks would make praw fetch the whole post, one extra request per post.
    """
    if data.get("is_gallery"):
        metadata = data.get("media_metadata") or {}
        order = [item["media_id"] for item in (data.get("gallery_data") or {}).get("items", [])]
        images = []
        for media_id in order or sorted(metadata):
            item = metadata.get(media_id) or {}
            if item.get("status") == "valid" and item.get("e") == "Image" and "u" in item.get("s", {}):
                images.append((f":{media_id}", item["s"]["u"].replace("&amp;", "&")))
        return images
    url = data.get("url", "")
    return [("", url)] if is_image_url(url) else []


class RedditSource:
    name = NAME

    def __init__(self, client_id: str, client_secret: str, user_agent: str, *, subreddit: str,
                 sort: str = "top", time_filter: str = "all", allow_nsfw: bool = False,
                 policy: RetryPolicy | None = None) -> None:
        import praw  # imported here: only this source needs it

        if not re.match(r"^[A-Za-z0-9_]{2,21}$", subreddit):
            raise UserError(f"--subreddit {subreddit!r} is not a subreddit name: give it without "
                            "r/, e.g. --subreddit cats")
        settings = {"check_for_updates": False}
        for key in ("oauth_url", "reddit_url"):  # praw reads these only from praw.ini or kwargs
            if os.environ.get(f"praw_{key}"):
                settings[key] = os.environ[f"praw_{key}"]
        if policy is not None:
            settings["timeout"] = max(1, int(round(policy.timeout)))
        self.reddit = praw.Reddit(client_id=client_id, client_secret=client_secret,
                                  user_agent=check_user_agent(user_agent), **settings)
        self.reddit.read_only = True
        self.subreddit, self.sort, self.time_filter = subreddit, sort, time_filter
        self.allow_nsfw = allow_nsfw
        self.notes: list[str] = []

    def _listing(self, query: str):
        sub = self.reddit.subreddit(self.subreddit)
        if query:
            sort = self.sort if self.sort != "hot" else "relevance"
            return sub.search(query, sort=sort, time_filter=self.time_filter, limit=None)
        if self.sort == "top":
            return sub.top(time_filter=self.time_filter, limit=None)
        return sub.new(limit=None) if self.sort == "new" else sub.hot(limit=None)

    def candidates(self, query: str, label: str) -> Iterator[Candidate]:
        import prawcore

        nsfw = 0
        described = f"r/{self.subreddit}" + (f" {query}" if query else "")
        try:
            for post in self._listing(query):
                data = vars(post)
                if data.get("over_18") and not self.allow_nsfw:
                    nsfw += 1
                    continue
                for suffix, url in post_images(data):
                    author = data.get("author")
                    yield Candidate(
                        key=f"{NAME}:{data['id']}{suffix}", source=NAME, label=label,
                        query=described, url=url,
                        page_url=f"https://www.reddit.com{data.get('permalink', '')}",
                        author=str(author) if author else "[deleted]", license=LICENSE,
                        extra={"title": data.get("title", "")})
        except prawcore.exceptions.OAuthException as exc:
            raise UserError(f"Reddit refused REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET ({exc}): "
                            f"{KEY_HELP}") from None
        except prawcore.exceptions.Redirect:
            raise UserError(f"subreddit r/{self.subreddit} does not exist: check --subreddit") from None
        except prawcore.exceptions.ResponseException as exc:
            status = exc.response.status_code
            if status == 401:
                raise UserError("Reddit refused REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET (401): "
                                f"{KEY_HELP}") from None
            raise UserError(f"Reddit answered {status} for {described}: check --subreddit "
                            "(private, banned or misspelt?)") from None
        except prawcore.exceptions.RequestException as exc:
            raise UserError(f"cannot reach Reddit ({scrub(str(exc))}): check the network") from None
        finally:
            if nsfw:
                self.notes.append(f"skipped {nsfw} over_18 post(s); pass --allow-nsfw to keep them")


def from_args(args: argparse.Namespace, policy: RetryPolicy) -> RedditSource:
    return RedditSource(require_env("REDDIT_CLIENT_ID", KEY_HELP),
                        require_env("REDDIT_CLIENT_SECRET", KEY_HELP),
                        require_env("REDDIT_USER_AGENT", f"choose one like {UA_EXAMPLE!r}"),
                        subreddit=args.subreddit, sort=args.sort, time_filter=args.time_filter,
                        allow_nsfw=args.allow_nsfw, policy=policy)
