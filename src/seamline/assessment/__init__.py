"""The communications assessment: inventory, flow map, channel effectiveness, bottlenecks, redundant collection."""
