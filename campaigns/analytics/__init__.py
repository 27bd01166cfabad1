"""Analytics that choose whom to call and when: features, best time to call, champion/challenger arms."""
