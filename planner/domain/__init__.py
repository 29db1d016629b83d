"""The pure domain core: cost model, optimiser, allocation and subsidies. No Flask, no database."""
