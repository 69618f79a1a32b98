package exchange

// Exchange is the flow-variable context of one request. (Being written.)
type Exchange struct{}
