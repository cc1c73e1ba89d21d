"""The classroom: one room server owns a shift's engine and clock; desks and an instructor
join it over the network (``protocol`` the messages, ``server`` the room, ``client`` a desk's
end of the line). The engine knows nothing of it: the room talks to it through the same
command door and event stream as the solo desk."""
