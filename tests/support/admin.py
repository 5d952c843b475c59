"""An admin made with the CLI, and browsers of their own: an admin's, or a learner's with an account."""
from support.csrf import csrf_token

ADMIN_EMAIL = "staff@example.org"
ADMIN_PASSWORD = "staff password 1"


def run_cli(app, *args, input=None):
    result = app.test_cli_runner().invoke(args=["tracker", *args], input=input)
    assert result.exit_code == 0, result.output
    return result


def create_admin(app, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    return run_cli(app, "create-admin", email, input=password + "\n")


class OwnContextClient:
    """A test client whose every request runs in an app context of its own.

    The test's app context outlives requests, and Flask-Login and Flask-WTF cache the current
    user and the CSRF token in its `g`; a second browser must not see the first one's.
    """

    def __init__(self, app):
        self.app, self.client = app, app.test_client()

    def open(self, *args, **kwargs):
        with self.app.app_context():
            response = self.client.open(*args, **kwargs)
            response.get_data()  # read a streamed body while its context is there
            return response

    def get(self, *args, **kwargs):
        return self.open(*args, method="GET", **kwargs)

    def post(self, *args, **kwargs):
        return self.open(*args, method="POST", **kwargs)


class Account:
    """A learner with an account, in a browser of their own; the API knows them by their session."""

    headers: dict = {}

    def __init__(self, app, email: str, display_name: str = "", password: str = "learner password 1"):
        self.client = OwnContextClient(app)
        token = csrf_token(self.client, "/signup")
        response = self.client.post(
            "/signup", data={"csrf_token": token, "email": email, "password": password, "display_name": display_name}
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        self.email = email
