"""Run one GraphQL request against a hub built in this process, which a fault point may kill.

Used by tests/test_sync.py: `python -m tests.crash_client TOKEN BODY_JSON` with the HUB_* URLs and
HUB_FAULT_CRASH_AT in the environment. Prints the response if the process survives.
"""

import json
import sys

from starlette.testclient import TestClient

from hub.app import create_app
from hub.config import Settings


def main() -> None:
    token, body = sys.argv[1], json.loads(sys.argv[2])
    with TestClient(create_app(Settings(_env_file=None))) as client:
        response = client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
        print(response.text)


if __name__ == "__main__":
    main()
