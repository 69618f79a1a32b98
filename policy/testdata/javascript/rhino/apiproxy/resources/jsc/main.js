var v = twice("ab");
context.setVariable("v", v);
