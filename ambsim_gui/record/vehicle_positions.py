"""Where a vehicle is on the map at any moment of a replay.

One job: vehicle positions are not events, so ``RouteCache.position`` interpolates along the
route of the vehicle's last ``VehicleMoving``, re-routed with the world's router (blue-light or
normal, with the road closures in force when the drive started), and keeps the routes it made.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ambsim_gui.record.replay_state import Drive, VehicleView

if TYPE_CHECKING:
    from ambsim_gui.geo.routing import Route
    from ambsim_gui.sim.world import World


class RouteCache:
    """Routes of drives, re-computed with the world's routers and kept (least recently used)."""

    def __init__(self, world: World, size: int = 4096) -> None:
        self.world = world
        self.size = size
        self._routes: OrderedDict[tuple[int, int, bool, tuple[int, ...]], Route | None] = (
            OrderedDict()
        )
        self._routers: dict[tuple[bool, tuple[int, ...]], Any] = {}

    def _router(self, blue: bool, closures: tuple[int, ...]) -> Any:
        key = (blue, closures)
        router = self._routers.get(key)
        if router is None:
            base = self.world.router if blue else self.world.router_normal
            router = base.with_closures(list(closures)) if closures else base
            self._routers[key] = router
        return router

    def route(self, drive: Drive) -> Route | None:
        key = (drive.from_node, drive.to_node, drive.blue_light, drive.closures)
        if key in self._routes:
            self._routes.move_to_end(key)
            return self._routes[key]
        try:
            route: Route | None = self._router(drive.blue_light, drive.closures).route(
                drive.from_node, drive.to_node
            )
        except Exception:  # noqa: BLE001 - no route today: the view shows the ends
            route = None
        self._routes[key] = route
        if len(self._routes) > self.size:
            self._routes.popitem(last=False)
        return route

    def position(self, vehicle: VehicleView, t: float) -> tuple[float, float]:
        """Where ``vehicle`` is at ``t`` (interpolated along its drive)."""
        drive = vehicle.drive
        if drive is None or (t >= drive.arrive_t and vehicle.since >= drive.arrive_t):
            return vehicle.x, vehicle.y  # not driving: where its last status change was
        route = self.route(drive)
        if route is None:
            return vehicle.x, vehicle.y
        return route.position_at(max(0.0, t - drive.depart_t))
