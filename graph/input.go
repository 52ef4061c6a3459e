package graph

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/womendefiningai/platform/domain/usertext"
)

// textArguments refuses, on the field that received it, any string argument
// (an input object's fields and list items included, variables or inline)
// that holds a control character: BAD_USER_INPUT before the resolver runs.
// No text a person types needs one, and a NUL would otherwise reach
// PostgreSQL, which refuses it with an error that answers INTERNAL. Use
// cases check their own limits (usertext); this is the one rule every
// argument shares, ids and cursors included.
type textArguments struct{}

var (
	_ graphql.HandlerExtension = textArguments{}
	_ graphql.FieldInterceptor = textArguments{}
)

func (textArguments) ExtensionName() string                   { return "TextArguments" }
func (textArguments) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptField costs one context look-up on fields without arguments.
func (textArguments) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(fc.Args) == 0 {
		return next(ctx)
	}
	for name, v := range fc.Args {
		if err := checkText(reflect.ValueOf(v)); err != nil {
			return nil, &gqlerror.Error{
				Message:    "argument " + name + " " + err.Error(),
				Path:       fc.Path(),
				Extensions: map[string]any{"code": CodeBadUserInput, "argument": name},
			}
		}
	}
	return next(ctx)
}

// errBadValue stands for a value no argument can hold (a cycle); GraphQL
// arguments are trees, so it is never expected.
var errBadValue = errors.New("is not a GraphQL value")

// maxArgumentDepth bounds the walk; the edge limits bound the document far
// below it.
const maxArgumentDepth = 64

// checkText walks a coerced argument: strings (and string-kinded enums),
// pointers, lists, maps and input-object structs.
func checkText(v reflect.Value) error { return walkText(v, 0) }

func walkText(v reflect.Value, depth int) error {
	if depth > maxArgumentDepth {
		return errBadValue
	}
	switch v.Kind() { //nolint:exhaustive // numbers and booleans hold no text
	case reflect.String:
		return usertext.Check(v.String(), math.MaxInt)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walkText(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := walkText(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := walkText(it.Value(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		return walkFields(v, depth)
	}
	return nil
}

// walkFields checks an input object's exported fields.
func walkFields(v reflect.Value, depth int) error {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		var err error
		if multiLineFields[f.Name] {
			err = walkMultiLine(v.Field(i))
		} else {
			err = walkText(v.Field(i), depth+1)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// multiLineFields are the input fields whose text is Markdown written over
// several lines (an event's description): line breaks and tabs are text
// there, every other control character is still refused.
var multiLineFields = map[string]bool{"Description": true}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\t", " ")

// walkMultiLine checks a string or *string field of multiLineFields.
func walkMultiLine(v reflect.Value) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.String {
		return walkText(v, 1)
	}
	return usertext.Check(lineBreaks.Replace(v.String()), math.MaxInt)
}
