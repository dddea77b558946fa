"""fine_tune that leaves the new head out of the optimizer: only the backbone learns, towards a random head."""
# kind: wrong
# fails: test_fine_tune_history test_fine_tune_learning_rates test_fine_tune_target_accuracy

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    backbone, _ = param_groups(model, lr_backbone, lr_head, head)
    optimizer = torch.optim.Adam([backbone])
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
