"""fine_tune that passes the learning rates to param_groups the wrong way round: the head learns 100x slower."""
# kind: wrong
# fails: test_fine_tune_learning_rates

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    optimizer = torch.optim.Adam(param_groups(model, lr_head, lr_backbone, head))
    history = []
    for _ in range(num_epochs):
        model.train()
        total, seen = 0.0, 0
        for X, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            seen += len(y)
        history.append(total / seen)
    return history
