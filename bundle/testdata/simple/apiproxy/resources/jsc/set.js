context.setVariable("x", "1");
