"""fine_tune that computes the gradients but never calls optimizer.step()."""
# kind: wrong
# fails: test_fine_tune_history test_fine_tune_learning_rates test_fine_tune_target_accuracy

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    optimizer = torch.optim.Adam(param_groups(model, lr_backbone, lr_head, head))
    history = []
    for _ in range(num_epochs):
        model.train()
        total, seen = 0.0, 0
        for X, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            total += loss.item() * len(y)
            seen += len(y)
        history.append(total / seen)
    return history
