function twice(s) {
  return `${s}${s}`;
}
