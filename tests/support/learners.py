"""An anonymous learner, and the JSON API as a learner's client uses it."""
from dataclasses import dataclass


@dataclass
class Learner:
    token: str

    @property
    def headers(self) -> dict:
        return {"X-Anonymous-Token": self.token}


class ProgressApi:
    """The JSON API as a learner's client uses it."""

    def __init__(self, client, index):
        self.client, self.index = client, index

    def heartbeat(self, learner: Learner, module_slug: str, lens_name: str, seconds: int, levels=("lo", "module")):
        module = self.index.modules_by_slug[module_slug]
        section = next(s for s in module.sections if s.lens.name == lens_name)
        body = {"content_id": str(section.lens.id), "time_delta_s": seconds}
        if "lo" in levels:
            body["lo_id"] = str(section.outcome.id)
        if "module" in levels:
            body["module_id"] = str(module.id)
        return self.client.post("/api/progress/time", json=body, headers=learner.headers)

    def complete(self, learner: Learner, lens_name: str, module_slug: str | None = None):
        body = {"content_id": str(self.index.lenses_by_name[lens_name].id), "content_type": "lens"}
        if module_slug:
            body["module_slug"] = module_slug
        return self.client.post("/api/progress/complete", json=body, headers=learner.headers)

    def chat(self, learner: Learner, module_slug: str, lens_name: str, text: str = "How does this work?"):
        """Send the tutor a message about a lens and read the whole streamed answer."""
        response = self.client.post(
            f"/api/modules/{module_slug}/{lens_name}/chat", json={"message": text}, headers=learner.headers
        )
        response.get_data()  # let the answer stream to its end, as a client would
        return response

    def state(self, learner: Learner, module_slug: str) -> dict:
        response = self.client.get(f"/api/modules/{module_slug}/progress", headers=learner.headers)
        assert response.status_code == 200, response.json
        return response.json
