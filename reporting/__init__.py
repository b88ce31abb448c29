"""Real-time statistics, historical queries and exports. Not built yet."""
