"""The replay's scratch view store: the embedded view store (kernel.views) in memory, so a
replay writes with exactly the code the embedded mode runs, and the services' own queries
(explain, report) run on the result with the projections' indexes."""

from kernel.views import EmbeddedClient


class ScratchViews:
    def __init__(self):
        self.database = EmbeddedClient(":memory:")["scratch_views"]

    def __getitem__(self, name):
        return self.database[name]

    def queryable(self):
        return self.database
