"""Carriers: waybills followed per order, route events recorded, lost pushes caught up."""
